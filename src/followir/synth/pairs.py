"""(query, instruction) pairs to synthesize documents for, from the layouts people have.

* TREC topic files (``<top>`` with ``<narr>``, or TREC-COVID XML): the FollowIR reading,
  description as query and narrative as instruction (via :mod:`followir.data.trec`).
* The FollowIR hub/plain query layout: JSONL rows with ``text`` and ``instruction_og``
  (``instruction_changed`` too, which becomes a second pair).
* A plain JSONL of ``{"query": ..., "instruction": ...}`` (optional ``id``).

Pair ids are stable (``<source stem>:<topic id>[:changed]``) so that resuming and the leak
check can name them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from followir.errors import DataError


@dataclass(frozen=True)
class SynthPair:
    pair_id: str
    query: str
    instruction: str
    source: str = ""


def _sniff_trec(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as fh:
        head = fh.read(4000).lower()  # the head only: a JSONL file can be large
    return "<top>" in head or "<topics" in head


def read_pairs(path: str | Path) -> list[SynthPair]:
    """Pairs from a TREC topic file or a JSONL file (layout chosen by content)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    if _sniff_trec(path):
        return _from_trec(path)
    return _from_jsonl(path)


def _from_trec(path: Path) -> list[SynthPair]:
    from followir.data.trec import read_topics

    out = []
    for tid, topic in read_topics(path).items():
        if not topic.narrative:
            continue  # a topic without a narrative has no instruction to follow
        query = topic.description or topic.title
        out.append(SynthPair(f"{_stem(path)}:{tid}", query, topic.narrative, str(path)))
    if not out:
        raise DataError("no topic has a <narr> narrative to use as instruction", path)
    return out


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".jsonl", ".txt", ".xml", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return re.sub(r"^topics\.", "", name)


def _from_jsonl(path: Path) -> list[SynthPair]:
    from followir.data.jsonl import iter_jsonl

    out: list[SynthPair] = []
    seen: set[str] = set()
    for loc, row in iter_jsonl(path):
        rid = row.get("_id", row.get("id", row.get("query_id", loc.line)))
        if "instruction_og" in row or "instruction_changed" in row:
            query = row.get("text")
            variants = [("", row.get("instruction_og")), (":changed", row.get("instruction_changed"))]
        elif "query" in row and "instruction" in row:
            query = row.get("query")
            variants = [("", row.get("instruction"))]
        else:
            raise loc.error(
                "expected {query, instruction} or the FollowIR layout {text, instruction_og}; "
                f"found keys {sorted(row)}"
            )
        if not isinstance(query, str) or not query.strip():
            raise loc.error("empty or non-text query")
        for suffix, instruction in variants:
            if instruction is None or (isinstance(instruction, str) and not instruction.strip()):
                continue
            if not isinstance(instruction, str):
                raise loc.error("instruction must be text")
            pid = f"{_stem(path)}:{rid}{suffix}"
            if pid in seen:
                raise loc.error(f"duplicate id {rid!r}")
            seen.add(pid)
            out.append(SynthPair(pid, query.strip(), " ".join(instruction.split()), str(path)))
    if not out:
        raise DataError("no (query, instruction) pairs found", path)
    return out
