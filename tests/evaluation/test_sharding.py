"""Scoring sharded over Ray gives exactly the single-process results."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from followir.evaluation.evaluate import evaluate_model
from followir.evaluation.rerank import build_pairs
from followir.evaluation.runs import output_paths, read_run
from followir.evaluation.sharding import shard_pairs
from followir.models.base import Pair

REPO = Path(__file__).resolve().parents[2]


def test_shards_keep_query_groups_whole_and_cover_everything(tiny_benchmark):
    pairs = build_pairs(tiny_benchmark, "og") + build_pairs(tiny_benchmark, "changed")
    pairs.append(Pair("solar energy", "x", "d1", "t"))  # a group of one
    shards = shard_pairs(pairs, 3)
    assert len(shards) == 3
    assert sorted(i for s in shards for i in s) == list(range(len(pairs)))
    owner = {}
    for n, shard in enumerate(shards):
        for i in shard:
            owner.setdefault((pairs[i].query, pairs[i].instruction), set()).add(n)
    assert all(len(v) == 1 for v in owner.values())
    # groups 4,4,4,4,1 largest first to the smallest shard: 4 | 4 | 4, then 8 | 4 | 4, then 8 | 5 | 4
    assert [len(s) for s in shards] == [8, 5, 4]
    assert shard_pairs(pairs, 3) == shards
    assert len(shard_pairs(pairs, 50)) == 5  # never more shards than groups
    with pytest.raises(ValueError):
        shard_pairs(pairs, 0)


@pytest.mark.slow
def test_local_ray_matches_single_process(tiny_benchmark, tmp_path, monkeypatch):
    pytest.importorskip("ray")
    from followir.evaluation.sharding import shutdown

    # Ray workers inherit the environment: let them import the test-only model family.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    plugins = ["tests.evaluation.scorers"]
    specs = ["random?seed=0", "test-corpus"]  # a registry family, and a corpus-statistics one
    try:
        sharded = [
            evaluate_model(tiny_benchmark, s, tmp_path / "ray", ray="local", plugins=plugins, n_boot=100, batch_size=2)
            for s in specs
        ]
        again = evaluate_model(tiny_benchmark, specs[0], tmp_path / "ray", ray="local", n_boot=100)
    finally:
        shutdown()
    for spec, dist in zip(specs, sharded, strict=True):
        single = evaluate_model(tiny_benchmark, spec, tmp_path / "single", n_boot=100, batch_size=16)
        assert dist.measures == single.measures
        assert dist.fingerprint == single.fingerprint
        assert dist.counts["pairs_scored"] == 16 and dist.counts["ray_shards"] == 4
        for variant in ("og", "changed"):
            a = read_run(output_paths(tmp_path / "ray", "tiny", spec)[variant])
            b = read_run(output_paths(tmp_path / "single", "tiny", spec)[variant])
            assert a == b
    assert "seen" not in sharded[1].fingerprint  # workers indexed the corpus
    assert again.counts["pairs_scored"] == 0 and again.counts["pairs_cached"] == 16
