"""p-MRR (FollowIR, arXiv 2403.15246): does a document that the altered instruction made
non-relevant move down when the instruction changes?

For each changed document with rank ``r_og`` in the original-instruction run and
``r_new`` in the altered-instruction run::

    p = r_new / r_og - 1   if r_og > r_new   (it moved up: bad, p < 0)
    p = 1 - r_og / r_new   otherwise          (it moved down or stayed: p >= 0)

averaged per query, then over queries (macro), reported x100.

Ranks follow trec_eval's tie rule (`followir.metrics.ranking`).  A changed document
missing from a run ranks one past the end — past its pool when a pool size is given,
else past the longer of the two runs — identically in both runs, so a document absent
from both scores 0 and one absent from only one run is judged by the same yardstick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from followir.data.types import Run
from followir.metrics.ranking import ranks


def pair_score(r_og: int, r_new: int) -> float:
    """The p-MRR contribution of one document that went from rank r_og to r_new."""
    if r_og > r_new:
        return r_new / r_og - 1.0
    return 1.0 - r_og / r_new


def pmrr_per_query(
    run_og: Run,
    run_changed: Run,
    changed_docs: Mapping[str, Sequence[str]],
    pool_sizes: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """p-MRR of every query with changed documents, as a fraction in [-1, 1]."""
    out: dict[str, float] = {}
    for qid, docs in changed_docs.items():
        if not docs:
            continue
        og, new = run_og.get(qid, {}), run_changed.get(qid, {})
        r_og, r_new = ranks(og), ranks(new)
        missing_rank = max(len(og), len(new)) + 1
        if pool_sizes is not None and qid in pool_sizes:
            missing_rank = max(missing_rank, pool_sizes[qid] + 1)
        vals = [
            pair_score(r_og.get(d, missing_rank), r_new.get(d, missing_rank)) for d in docs
        ]
        out[qid] = sum(vals) / len(vals)
    return out


def pmrr(
    run_og: Run,
    run_changed: Run,
    changed_docs: Mapping[str, Sequence[str]],
    pool_sizes: Mapping[str, int] | None = None,
) -> float:
    """Macro-averaged p-MRR x100 (the number in the FollowIR tables)."""
    per_query = pmrr_per_query(run_og, run_changed, changed_docs, pool_sizes)
    if not per_query:
        return float("nan")
    return 100.0 * sum(per_query.values()) / len(per_query)
