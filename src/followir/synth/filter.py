"""Keep a synthetic document only when a judge model agrees with its intended label.

FollowIR filtered GPT-3.5's documents with Mistral-7B-Instruct: a document written to be
relevant but judged not relevant (or the reverse) is dropped, then each pair keeps one
relevant and one non-relevant document.  The judge is any :class:`Scorer` (for ``llm:``
judges the score is P(true)), so ``--threshold`` turns it into a yes/no.  Every rejection
is counted by reason so a bad generator or a weak judge shows up in the numbers.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from followir.errors import DataError
from followir.models.base import Pair, Scorer

log = logging.getLogger(__name__)

REASONS = ("unparseable", "too_short", "duplicate", "judge_disagreed", "balance")


@dataclass
class FilterStats:
    generated: int = 0
    rejected: Counter = field(default_factory=Counter)
    kept: int = 0
    pairs_kept: int = 0
    judge: str = "none"
    threshold: float = 0.5

    def to_dict(self) -> dict[str, object]:
        return {
            "generated": self.generated,
            "rejected": {r: int(self.rejected.get(r, 0)) for r in REASONS},
            "rejected_total": int(sum(self.rejected.values())),
            "kept": self.kept,
            "pairs_kept": self.pairs_kept,
            "judge": self.judge,
            "threshold": self.threshold,
        }


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def read_synth(path: str | Path) -> list[tuple[int, dict[str, object]]]:
    """Rows of a ``followir synth`` file, validated (errors name the line)."""
    from followir.data.jsonl import iter_jsonl

    rows = []
    for loc, obj in iter_jsonl(path):
        row = dict(obj)
        if "error" not in row:
            for key in ("pair_id", "query", "instruction", "document", "label"):
                if key not in row:
                    raise loc.error(f"missing field {key!r} (is this a `followir synth` file?)")
            if row["label"] not in (0, 1):
                raise loc.error(f"label must be 0 or 1, not {row['label']!r}")
        rows.append((int(loc.line or 0), row))
    if not rows:
        raise DataError("empty file", path)
    return rows


def filter_documents(
    rows: Sequence[tuple[int, dict[str, object]]],
    judge: Scorer | None,
    *,
    threshold: float = 0.5,
    min_words: int = 10,
    batch_size: int = 16,
    balance: bool = True,
    progress: bool = True,
) -> tuple[list[dict[str, object]], FilterStats]:
    """Apply the checks in order (unparseable, too short, duplicate, judge) then balance."""
    from tqdm.auto import tqdm

    stats = FilterStats(judge=getattr(judge, "name", "none") if judge else "none", threshold=threshold)
    candidates: list[dict[str, object]] = []
    seen: set[str] = set()
    for _, row in rows:
        if "error" in row:
            stats.rejected["unparseable"] += 1
            continue
        stats.generated += 1
        doc = str(row["document"])
        if len(doc.split()) < min_words:
            stats.rejected["too_short"] += 1
            continue
        # The same text under a *different* instruction is FollowIR's very signal (relevant
        # under one, not under a narrower one), so duplicates are per instruction.
        key = _norm(str(row["query"])) + "\x00" + _norm(str(row["instruction"])) + "\x00" + _norm(doc)
        if key in seen:
            stats.rejected["duplicate"] += 1
            continue
        seen.add(key)
        candidates.append(row)

    if judge is not None:
        for start in tqdm(range(0, len(candidates), batch_size), desc="judge", disable=not progress):
            chunk = candidates[start : start + batch_size]
            pairs = [
                Pair(str(r["query"]), str(r["instruction"]), f"{r['pair_id']}#{i}", str(r["document"]))
                for i, r in enumerate(chunk, start)
            ]
            for r, s in zip(chunk, judge.score(pairs), strict=True):
                r["judge_score"] = float(s)
                r["judge"] = stats.judge
        agreed = []
        for r in candidates:
            judged = 1 if float(r["judge_score"]) >= threshold else 0  # type: ignore[arg-type]
            if judged != r["label"]:
                stats.rejected["judge_disagreed"] += 1
            else:
                agreed.append(r)
        candidates = agreed

    kept = _balance(candidates, stats) if balance else candidates
    stats.kept = len(kept)
    stats.pairs_kept = len({r["pair_id"] for r in kept})
    return kept, stats


def _balance(rows: list[dict[str, object]], stats: FilterStats) -> list[dict[str, object]]:
    """One relevant and one non-relevant document per pair, the judge's most confident."""
    by_pair: dict[object, dict[int, list[dict[str, object]]]] = defaultdict(lambda: {0: [], 1: []})
    for r in rows:
        by_pair[r["pair_id"]][int(r["label"])].append(r)  # type: ignore[call-overload]
    kept = []
    for groups in by_pair.values():
        if not groups[0] or not groups[1]:
            stats.rejected["balance"] += len(groups[0]) + len(groups[1])
            continue
        rel = max(groups[1], key=lambda r: r.get("judge_score", 0.0))  # type: ignore[arg-type, return-value]
        non = min(groups[0], key=lambda r: r.get("judge_score", 0.0))  # type: ignore[arg-type, return-value]
        stats.rejected["balance"] += len(groups[0]) + len(groups[1]) - 2
        kept.extend([rel, non])
    return kept


def write_jsonl(path: str | Path, rows: Sequence[dict[str, object]]) -> None:
    """`followir.data.jsonl.write_jsonl`, made atomic (tmp + rename): a crash never leaves
    half a training file."""
    from followir.data.jsonl import write_jsonl as write_rows

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    write_rows(tmp, rows)
    tmp.replace(path)
