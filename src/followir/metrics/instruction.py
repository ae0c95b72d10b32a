"""Instruction-following measures: p-MRR (FollowIR) and Robustness@k (InstructIR)."""

from __future__ import annotations

from collections import defaultdict

from followir.errors import DataError
from followir.metrics.base import EvalInput, Measure, register
from followir.metrics.pmrr import pmrr_per_query


@register
class PMRR(Measure):
    name = "p-MRR"
    needs_changes = True

    def per_query(self, inp: EvalInput) -> dict[str, float]:
        if inp.run_changed is None:
            raise DataError("p-MRR needs a run under the altered instruction")
        return pmrr_per_query(inp.run_og, inp.run_changed, inp.changed_docs, inp.pool_sizes)


@register
class Robustness(Measure):
    """Minimum nDCG@k over the instruction variants of each base query (InstructIR)."""

    name = "Robustness"

    def per_query(self, inp: EvalInput) -> dict[str, float]:
        from followir.metrics.trec import NDCG, per_query_trec

        if inp.groups is None:
            raise DataError("Robustness@k needs query groups (variant id -> base query id)")
        ndcg = per_query_trec(NDCG(self.cutoff or 10), inp.run_og, inp.qrels_og)
        by_base: dict[str, list[float]] = defaultdict(list)
        for qid, value in ndcg.items():
            by_base[inp.groups.get(qid, qid)].append(value)
        return {base: min(vals) for base, vals in by_base.items()}
