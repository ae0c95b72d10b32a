import pytest

from followir.errors import SpecError
from followir.models.base import Pair, Scorer
from followir.models.registry import load_model


def _pairs(instruction: str) -> list[Pair]:
    return [Pair("q", instruction, f"d{i}", "text") for i in range(50)]


def test_reproducible_and_order_independent():
    a = load_model("random?seed=7")
    b = load_model("random?seed=7")
    pairs = _pairs("inst")
    forward = a.score(pairs)
    backward = b.score(list(reversed(pairs)))
    assert forward == list(reversed(backward))
    assert isinstance(a, Scorer)
    assert all(0.0 <= s < 1.0 for s in forward)


def test_instruction_and_seed_change_scores():
    r = load_model("random")
    assert r.score(_pairs("original")) != r.score(_pairs("altered"))
    assert load_model("random?seed=1").score(_pairs("x")) != r.score(_pairs("x"))
    assert load_model("random?seed=1").fingerprint != r.fingerprint


def test_scores_look_uniform():
    r = load_model("random?seed=3")
    values = r.score([Pair("q", "i", f"d{i}", "") for i in range(4000)])
    mean = sum(values) / len(values)
    assert abs(mean - 0.5) < 0.03  # sd of the mean is 0.0046
    assert len(set(values)) == len(values)


def test_bad_options():
    with pytest.raises(SpecError, match="seed"):
        load_model("random?seed=abc")
    with pytest.raises(SpecError, match="unknown option"):
        load_model("random?sed=1")
