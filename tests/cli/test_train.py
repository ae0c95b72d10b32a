"""`followir train` through typer's CliRunner on a tiny local Llama."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from followir.cli.app import app
from followir.errors import DataError

pytestmark = pytest.mark.slow


def _data(path, query="cake recipes"):
    rows = [{"query": f"{query} {i}", "instruction": "Documents about stock markets are not relevant.",
             "document": "Bake the cake with flour." if i % 2 == 0 else "Stocks fell sharply today.",
             "label": "true" if i % 2 == 0 else "false"} for i in range(8)]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


def test_train_stop_resume_and_score_the_merged_model(tmp_path):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from followir.models.base import Pair
    from followir.models.registry import load_model
    from tests.models.tiny import build_causal_lm

    base = build_causal_lm(tmp_path / "base")
    data = _data(tmp_path / "train.jsonl")
    out = tmp_path / "tuned"
    args = ["train", str(data), "--base", str(base), "--out", str(out), "--epochs", "1",
            "--batch-size", "2", "--grad-accum", "2", "--max-length", "256", "--lr", "1e-3",
            "--save-every", "1", "--lora-targets", "all-linear"]
    first = CliRunner().invoke(app, [*args, "--stop-after", "1"])
    assert first.exit_code == 0, first.output
    assert "1/2 steps" in first.output and not (out / "followir-model.json").exists()
    again = CliRunner().invoke(app, args)
    assert isinstance(again.exception, Exception) and "--resume" in str(again.exception)
    done = CliRunner().invoke(app, [*args, "--resume"])
    assert done.exit_code == 0, done.output
    assert "2/2 steps" in done.output
    scores = load_model(f"llm:{out}").score([Pair("cake", "no stocks", "d1", "Bake the cake.")])
    assert len(scores) == 1 and scores[0] == scores[0]


def test_train_refuses_benchmark_topics(tmp_path):
    from followir.train.data import benchmark_topics

    topics = benchmark_topics()
    if not topics:
        pytest.skip("followir-mini not bundled yet")
    data = _data(tmp_path / "leak.jsonl", query=topics[0].query)
    rows = [json.loads(x) for x in data.read_text().splitlines()]
    for r in rows:
        r["query"] = topics[0].query
    data.write_text("\n".join(json.dumps(r) for r in rows))
    result = CliRunner().invoke(app, ["train", str(data), "--base", "unused", "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, DataError) and "followir-mini" in str(result.exception)
