"""Shared fixtures (append only, small edits)."""

from __future__ import annotations

import pytest

from followir.data.types import Benchmark, Document, Query


def make_tiny_benchmark() -> Benchmark:
    """Two FollowIR-style queries over six documents, with pools and changed qrels.

    Changed docs (relevant under og, not under changed): q1 -> [d2]; q2 -> [d5, d6].
    qrels_og and qrels_changed disagree, so mixing them changes every og measure.
    """
    corpus = {
        "d1": Document("d1", "Photovoltaic panels convert sunlight into electricity.", "Solar cells"),
        "d2": Document("d2", "Solar water heaters warm household water with sunlight."),
        "d3": Document("d3", "Hydroelectric dams generate power from rivers."),
        "d4": Document("d4", "Coal plants burn fossil fuel to make steam."),
        "d5": Document("d5", "The river flooded the valley after heavy rain in 1993."),
        "d6": Document("d6", "Levees failed and the flood displaced thousands."),
    }
    queries = {
        "q1": Query(
            "q1",
            "solar energy",
            "Relevant documents describe any use of solar energy.",
            "Relevant documents describe solar electricity only; heating is not relevant.",
        ),
        "q2": Query(
            "q2",
            "river floods",
            "Relevant documents describe river floods and their damage.",
            "Relevant documents describe floods before 1950 only.",
        ),
    }
    qrels_og = {
        "q1": {"d1": 1, "d2": 1, "d3": 0},
        "q2": {"d5": 1, "d6": 2, "d4": 0},
    }
    qrels_changed = {
        "q1": {"d1": 1, "d2": 0, "d3": 0},
        "q2": {"d5": 0, "d6": 0, "d3": 1},
    }
    pools = {"q1": ["d1", "d2", "d3", "d4"], "q2": ["d3", "d4", "d5", "d6"]}
    return Benchmark(
        name="tiny",
        queries=queries,
        corpus=corpus,
        qrels_og=qrels_og,
        qrels_changed=qrels_changed,
        pools=pools,
        main_measure="MAP@1000",
    )


@pytest.fixture
def tiny_benchmark() -> Benchmark:
    return make_tiny_benchmark()


# No test may reach the Hugging Face Hub; set before any test module imports HF code.
import os  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
