"""Training examples for the pointwise reranker, encoded exactly as the scorer encodes them.

The prompt and the answer-token ids come from the scorer itself (:class:`Encoding` wraps
``PointwiseLLMScorer``'s own prompt builder), so a model trained here sees at training
time the very token ids it will see when scored: training and scoring cannot drift.

Before anything is trained, :func:`leak_check` refuses training pairs that share a topic
with the bundled benchmark followir-mini (same id, same normalised query, or high word
overlap of query + instruction), because a gain measured on topics seen in training proves
nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from followir.errors import DataError

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "relevant", "1.0"}
_FALSE = {"0", "false", "no", "not relevant", "nonrelevant", "non-relevant", "irrelevant", "0.0"}


@dataclass(frozen=True)
class TrainExample:
    query: str
    instruction: str
    document: str
    label: int  # 1 = relevant ("true"), 0 = not relevant ("false")
    source: str = ""  # "file:line", for error messages and the leak report


def _label(value: object, where: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return 1
    if isinstance(value, str) and value.strip().lower() in _FALSE:
        return 0
    raise DataError(f"{where}: label must be 0/1 or true/false, not {value!r}")


def read_train(path: str | Path) -> list[TrainExample]:
    """Examples from a ``followir filter`` file or the FollowIR-train layout
    (``query``, ``instruction``, ``document``, ``label`` true/false)."""
    from followir.data.jsonl import iter_jsonl

    out = []
    for loc, row in iter_jsonl(path):
        if "error" in row:
            continue  # an unparseable generation recorded by `followir synth`
        missing = [k for k in ("query", "instruction", "document", "label") if k not in row]
        if missing:
            raise loc.error(f"missing field(s) {missing}; expected query, instruction, document, label")
        doc = row["document"]
        if not isinstance(doc, str) or not doc.strip():
            raise loc.error("empty document")
        out.append(
            TrainExample(
                str(row["query"]),
                str(row["instruction"]),
                doc,
                _label(row["label"], str(loc)),
                str(loc),
            )
        )
    if not out:
        raise DataError("no training examples", path)
    if len({e.label for e in out}) < 2:
        raise DataError("training data has only one label; need relevant and non-relevant", path)
    return out


# -- the leak check --------------------------------------------------------------------------
_STOP = set(
    "a an and are as at be by documents document for from in is it of on or relevant that the "
    "this to with not any about which will would should must".split()
)


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _words(text: str) -> set[str]:
    return {w for w in _norm(text).split() if w not in _STOP and len(w) > 2}


@dataclass(frozen=True)
class Topic:
    topic_id: str
    query: str
    instruction: str


def benchmark_topics() -> list[Topic]:
    """The bundled followir-mini topics (queries.jsonl, else the hand-written sources)."""
    root = resources.files("followir") / "data" / "bundled" / "followir-mini"
    topics: list[Topic] = []
    queries = root / "queries.jsonl"
    if queries.is_file():
        for line in queries.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                topics.append(Topic(str(row["_id"]), row.get("text", ""), row.get("instruction_og", "")))
        return topics
    sources = root / "sources"
    if sources.is_dir():
        for f in sorted(sources.iterdir(), key=lambda p: p.name):
            if f.name.endswith(".json"):
                row = json.loads(f.read_text(encoding="utf-8"))
                topics.append(Topic(str(row["id"]), row.get("query", ""), row.get("instruction_og", "")))
    return topics


def leak_check(
    examples: Iterable[TrainExample],
    topics: Sequence[Topic] | None = None,
    *,
    overlap: float = 0.6,
    example_ids: Iterable[str] = (),
) -> None:
    """Raise DataError naming the first training rows that share a topic with the benchmark.

    A row leaks when its normalised query equals a benchmark query, or when the Jaccard
    overlap of content words of query + instruction reaches ``overlap``, or when one of
    ``example_ids`` equals a benchmark topic id.
    """
    topics = benchmark_topics() if topics is None else list(topics)
    if not topics:
        log.warning("leak check: no bundled benchmark topics found; nothing to compare")
        return
    ids = {t.topic_id for t in topics}
    bad = [f"id {i!r}" for i in example_ids if i in ids]
    qnorm = {_norm(t.query): t for t in topics if t.query}
    twords = [(t, _words(t.query + " " + t.instruction)) for t in topics]
    seen: set[tuple[str, str]] = set()
    for ex in examples:
        key = (ex.query, ex.instruction)
        if key in seen:
            continue
        seen.add(key)
        hit = qnorm.get(_norm(ex.query))
        if hit is None:
            w = _words(ex.query + " " + ex.instruction)
            for t, tw in twords:
                if w and tw and len(w & tw) / len(w | tw) >= overlap:
                    hit = t
                    break
        if hit is not None:
            bad.append(f"{ex.source or 'a training row'} (query {ex.query[:60]!r}) ~ benchmark topic {hit.topic_id}")
        if len(bad) >= 5:
            break
    if bad:
        raise DataError(
            "training data shares topics with the bundled benchmark followir-mini, so a "
            "measured gain would be contamination: " + "; ".join(bad) + ". Remove those rows."
        )


# -- encoding --------------------------------------------------------------------------------
def encode_examples(examples: Sequence[TrainExample], scorer) -> list[tuple[list[int], int]]:  # noqa: ANN001
    """(input ids, label) per example, built by the scorer's own ``encode`` (its template,
    BOS handling and document-only truncation), so training sees what scoring sees."""
    from followir.models.base import Pair

    pairs = [Pair(ex.query, ex.instruction, ex.source, ex.document) for ex in examples]
    ids = scorer.encode(pairs)
    return [(list(x), ex.label) for x, ex in zip(ids, examples, strict=True)]
