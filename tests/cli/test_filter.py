"""`followir filter` through typer's CliRunner, judged by the registry's seeded `random`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from followir.cli.app import app
from followir.models.base import Pair
from followir.models.registry import load_model

LONG = " and enough further words to pass the minimum length of the filter"


def test_filter_keeps_agreeing_documents_and_saves_counts(tmp_path):
    rows = []
    for pid in ("p1", "p2", "p3", "p4"):
        for label in (1, 0):
            for k in (1, 2):
                rows.append({"pair_id": pid, "query": f"query {pid}", "instruction": f"inst {pid}",
                             "label": label, "option": k, "document": f"doc {pid} {label} {k}{LONG}"})
    rows.append({"pair_id": "p5", "error": "unparseable", "query": "q", "instruction": "i"})
    src = tmp_path / "docs.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "kept.jsonl"
    result = CliRunner().invoke(app, ["filter", str(src), "--judge", "random", "--out", str(out)])
    assert result.exit_code == 0, result.output

    # recompute the expected outcome independently with the same judge
    judge = load_model("random")
    docs = [r for r in rows if "error" not in r]
    scores = judge.score([Pair(r["query"], r["instruction"], f"{r['pair_id']}#{i}", r["document"])
                          for i, r in enumerate(docs)])
    agree = [r for r, s in zip(docs, scores, strict=True) if (s >= 0.5) == (r["label"] == 1)]
    pairs_ok = {p for p in {r["pair_id"] for r in agree}
                if {r["label"] for r in agree if r["pair_id"] == p} == {0, 1}}
    stats = json.loads((tmp_path / "kept.jsonl.stats.json").read_text())
    assert stats["generated"] == 16 and stats["rejected"]["unparseable"] == 1
    assert stats["rejected"]["judge_disagreed"] == len(docs) - len(agree)
    assert stats["kept"] == 2 * len(pairs_ok) and stats["pairs_kept"] == len(pairs_ok)
    kept = [json.loads(x) for x in out.read_text().splitlines()] if out.read_text() else []
    assert {r["pair_id"] for r in kept} == pairs_ok
    assert f"kept {stats['kept']}" in result.output
