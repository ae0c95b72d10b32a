"""A custom mteb (v2) InstructionReranking task fed by a local FollowIR-layout directory.

Runs only inside ``.bench-venv`` (it imports mteb).  It mirrors how mteb 2.x defines the
FollowIR tasks (``Robust04InstructionRetrieval``: an ``AbsTaskRetrieval`` of type
``InstructionReranking`` whose queries carry ``-og`` / ``-changed`` id suffixes, with
``top_ranked`` pools, and p-MRR computed in ``task_specific_scores`` by mteb's own
``evaluate_p_mrr_change``), but ``load_data`` reads the plain files that followir reads:

    corpus.jsonl  queries.jsonl  qrels_og/test.tsv  qrels_changed/test.tsv  top_ranked.jsonl

so that mteb scores and measures exactly the data followir does.  The files are parsed
here with the standard library only, independently of followir's readers.

Two deliberate choices keep the *inputs* identical on both sides:

* a document reaches mteb as ``text = title + "\\n" + text`` with an empty title, which is
  followir's ``Document.full_text`` (mteb would otherwise join them with a space);
* the changed documents ("qrel_diff" in the hub layout) are derived from the two qrels
  files by the FollowIR definition: relevant under the original instruction, not relevant
  under the altered one.

mteb rounds its reported MAP to 5 decimals, so :meth:`task_specific_scores` also keeps
the unrounded per-query values and the run itself (``self.captured``) for the benchmark
to compare at 1e-6.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from datasets import Dataset
from mteb._evaluators.retrieval_metrics import calculate_pmrr, evaluate_p_mrr_change
from mteb.abstasks.retrieval import AbsTaskRetrieval
from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
from mteb.abstasks.task_metadata import TaskMetadata


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc})") from None
    return rows


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels TSV (header ``query-id corpus-id score``)."""
    out: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader)
        if [h.strip() for h in header[:3]] != ["query-id", "corpus-id", "score"]:
            raise ValueError(f"{path}:1: expected header query-id, corpus-id, score")
        for row in reader:
            if row:
                out.setdefault(str(row[0]), {})[str(row[1])] = int(row[2])
    return out


def changed_docs(og: dict[str, dict[str, int]], changed: dict[str, dict[str, int]]):
    """Per query: documents relevant under the original instruction but not the altered one."""
    out: dict[str, list[str]] = {}
    for qid, docs in og.items():
        if qid not in changed:
            continue
        diff = sorted(d for d, r in docs.items() if r > 0 and changed[qid].get(d, 0) <= 0)
        if diff:
            out[qid] = diff
    return out


class LocalFollowIRTask(AbsTaskRetrieval):
    """FollowIR-style instruction reranking over a local directory (see module docstring)."""

    metadata = TaskMetadata(
        name="FollowIRLocalInstructionReranking",
        description="A FollowIR-layout benchmark read from local files (followir speed bench).",
        reference="https://arxiv.org/abs/2403.15246",
        dataset={"path": "local/followir", "revision": "local"},
        type="InstructionReranking",
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=["eng-Latn"],
        main_score="p-MRR",
        date=("2024-01-01", "2024-12-31"),
        domains=["Written"],
        task_subtypes=[],
        license="apache-2.0",
        annotations_creators="derived",
        dialect=[],
        sample_creation="found",
        bibtex_citation="",
    )

    def __init__(self, data_dir: str | Path, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_dir = Path(data_dir)
        self.changed: dict[str, list[str]] = {}
        self.captured: dict[str, Any] = {}

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if self.data_loaded:
            return
        d = self.data_dir
        corpus = [
            {"id": str(r["_id"]), "title": "", "text": _full_text(r)}
            for r in read_jsonl(d / "corpus.jsonl")
        ]
        qrels_og = read_qrels(d / "qrels_og" / "test.tsv")
        qrels_changed = read_qrels(d / "qrels_changed" / "test.tsv")
        pools = {str(r["qid"]): [str(p) for p in r["pids"]] for r in read_jsonl(d / "top_ranked.jsonl")}
        queries, relevant, top_ranked = [], {}, {}
        for r in read_jsonl(d / "queries.jsonl"):
            qid = str(r["_id"])
            variants = [("og", r.get("instruction_og", ""), qrels_og)]
            if r.get("instruction_changed") is not None:
                variants.append(("changed", r["instruction_changed"], qrels_changed))
            for which, instruction, qrels in variants:
                vid = f"{qid}-{which}"
                queries.append({"id": vid, "text": r["text"], "instruction": instruction})
                relevant[vid] = dict(qrels.get(qid, {}))
                top_ranked[vid] = list(pools[qid])
        self.changed = changed_docs(qrels_og, qrels_changed)
        split = RetrievalSplitData(
            corpus=Dataset.from_list(corpus),
            queries=Dataset.from_list(queries),
            relevant_docs=relevant,
            top_ranked=top_ranked,
        )
        self.dataset = {"default": {"test": split}}
        self.inputs = split  # mteb drops self.dataset after evaluating; the bench counts FLOPs
        self.data_loaded = True

    def task_specific_scores(
        self,
        scores: dict[str, dict[str, float]],
        qrels: dict[str, dict[str, int]],
        results: dict[str, dict[str, float]],
        hf_split: str,
        hf_subset: str,
    ) -> dict[str, Any]:
        """mteb's own FollowIR scores, plus the unrounded values and the run for the bench."""
        out = evaluate_p_mrr_change(qrels, results, self.changed, self.k_values)
        og = {q: s for q, s in scores.items() if q.endswith("-og")}
        original = {q: r for q, r in results.items() if q.endswith("-og")}
        new = {q: r for q, r in results.items() if not q.endswith("-og")}
        self.captured = {
            "map_at_1000_og": sum(s["map_cut_1000"] for s in og.values()) / len(og),
            "ndcg_at_5_og": sum(s["ndcg_cut_5"] for s in og.values()) / len(og),
            "p_mrr": float(calculate_pmrr(original, new, self.changed)),
            "reported_map_at_1000_og": out["og"]["map_at_1000"],
            "reported_p_mrr": float(out["p-MRR"]),
            "run": {q: dict(r) for q, r in results.items()},
        }
        return out


def _full_text(row: dict[str, Any]) -> str:
    """followir's Document.full_text: the title on its own line before the text."""
    title = row.get("title") or ""
    return f"{title}\n{row['text']}" if title else row["text"]
