"""Turning scores into ranks the way trec_eval does.

trec_eval sorts by score descending and breaks ties by document id *descending*
(string comparison).  Insertion order never matters: the same scores always give the
same ranking, whichever order a model returned them in.
"""

from __future__ import annotations

from collections.abc import Mapping


def ranked_ids(scores: Mapping[str, float]) -> list[str]:
    """Document ids from best to worst under trec_eval's tie rule."""
    return [d for d, _ in sorted(scores.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]


def ranks(scores: Mapping[str, float]) -> dict[str, int]:
    """1-based rank of every document in a run for one query."""
    return {d: i for i, d in enumerate(ranked_ids(scores), start=1)}
