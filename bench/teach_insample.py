"""In-sample instruction following of a reranker on `followir synth --written` training rows.

Why: when a tuned model's p-MRR does not rise on the benchmark, this tells "learned the
contrast but it does not transfer" apart from "never learned it": each topic's passages are
scored under the original and under the altered instruction as two runs, and p-MRR is taken
over the passages whose label flips (excluded and trap), exactly as on a benchmark.

It also prints each passage kind's mean score (log-odds) under both instructions: a
model that learned the contrast lowers excluded/trap passages under the altered
instruction *more* than kept ones; a model that only learned "this passage is weaker"
lowers them by the same amount under both (what run 3 did).

    .venv/bin/python bench/teach_insample.py TRAIN.jsonl smollm2 llm:/tmp/teach3/tuned --every 9 --topics 10
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import followir
from followir.metrics.pmrr import pmrr_per_query
from followir.models.base import Pair
from followir.models.registry import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("train", help="rows written by `followir synth --written` (pair_id TOPIC:og|changed)")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--every", type=int, default=9, help="take every N-th topic")
    ap.add_argument("--topics", type=int, default=10)
    args = ap.parse_args()
    by_topic: dict[str, list[dict]] = defaultdict(list)
    with open(args.train, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            by_topic[row["pair_id"].split(":")[1]].append(row)
    topics = sorted(by_topic)[:: args.every][: args.topics]
    kinds = passage_kinds()
    for spec in args.models:
        model = load_model(spec)
        runs: dict[str, dict[str, dict[str, float]]] = {"og": {}, "changed": {}}
        changed: dict[str, list[str]] = {}
        for topic in topics:
            labels = {w: {r["doc_id"]: r["label"] for r in by_topic[topic] if r["pair_id"].endswith(":" + w)}
                      for w in runs}
            changed[topic] = [d for d, y in labels["og"].items() if y == 1 and labels["changed"].get(d) == 0]
            for which in runs:
                rows = [r for r in by_topic[topic] if r["pair_id"].endswith(":" + which)]
                scores = model.score([Pair(r["query"], r["instruction"], r["doc_id"], r["document"]) for r in rows])
                runs[which][topic] = {r["doc_id"]: s for r, s in zip(rows, scores, strict=True)}
        per_topic = pmrr_per_query(runs["og"], runs["changed"], changed)
        mean = 100 * sum(per_topic.values()) / len(per_topic)
        print(f"{spec}: in-sample p-MRR x100 = {mean:.1f} over {len(per_topic)} topics")
        by_kind: dict[tuple[str, str], list[float]] = defaultdict(list)
        for which, run in runs.items():
            for scores in run.values():
                for doc, value in scores.items():
                    by_kind[(kinds.get(doc, "?"), which)].append(value)
        for kind in sorted({k for k, _ in by_kind}):
            og, ch = by_kind[(kind, "og")], by_kind[(kind, "changed")]
            if og and ch:
                a, b = sum(og) / len(og), sum(ch) / len(ch)
                print(f"  {kind:14s} og {a:7.2f}  altered {b:7.2f}  drop {a - b:6.2f}  (n={len(og)})")


def passage_kinds() -> dict[str, str]:
    """doc id -> kind (kept, excluded, trap, negated, hard_negative) of the bundled
    hand-written topics; empty for other data."""
    folder = Path(followir.__file__).parent / "data" / "bundled" / "teach-robust04" / "topics"
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        for passage in json.loads(path.read_text(encoding="utf-8")).get("passages", []):
            out[passage["id"]] = passage.get("kind", "?")
    return out


if __name__ == "__main__":
    main()
