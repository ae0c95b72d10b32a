"""Build the bundled benchmark ``followir-mini`` from its hand-written topic sources.

The benchmark is authored as one JSON file per topic (``sources/fmNN.json``) because a
topic — query, original narrative, narrowed narrative and its labelled passages — is the
unit a person writes and reviews.  The shipped files (the plain FollowIR layout) are
*derived* from those sources by :func:`build_mini`, so they can never drift from what was
reviewed: the build is deterministic (sorted ids, stable pool sampling, no timestamps) and
a test rebuilds them and compares bytes.

Source format (one topic per file)::

    {"id": "fm01", "domain": "medicine", "query": "...",
     "instruction_og": "...", "instruction_changed": "<instruction_og> + one constraint",
     "passages": [{"id": "fm01-p01", "title": "...", "text": "...",
                   "og": 1, "changed": 1, "kind": "kept"}, ...]}

Passage kinds (and the labels they imply):

- ``kept``: relevant under both narratives (og 1, changed 1);
- ``excluded``: relevant under the original only (og 1, changed 0);
- ``trap``: like ``excluded`` but written with the words of the added constraint while
  violating it, so keyword matching moves it *up* under the altered narrative;
- ``hard_negative``: not relevant under either (og 0, changed 0) despite lexical overlap.

Validation is strict and every failure names the file and the topic or passage id, since
a wrong label silently corrupts every p-MRR computed on the benchmark.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from followir.data.jsonl import write_jsonl, write_qrels_tsv
from followir.errors import DataError

logger = logging.getLogger(__name__)

NAME = "followir-mini"

#: kind -> (og label, changed label)
KINDS: dict[str, tuple[int, int]] = {
    "kept": (1, 1),
    "excluded": (1, 0),
    "trap": (1, 0),
    "hard_negative": (0, 0),
}
MIN_WORDS, MAX_WORDS = 60, 200
MIN_PASSAGES = 30
MIN_INSTRUCTION_WORDS = 40
#: Share of originally relevant passages that the altered narrative must make non-relevant.
CHANGED_RATIO = (0.3, 0.7)
#: Passages of other topics added to each topic's pool (unjudged distractors).
POOL_EXTRA = 8

# A TREC narrative says what is *not* relevant; without a negation the original
# instruction gives a model nothing to follow beyond the query itself.
_NEGATION = re.compile(
    r"\b(not|no|nor|never|none|neither|exclude[ds]?|excluding|without|irrelevant)\b|n't\b",
    re.IGNORECASE,
)
_TOPIC_KEYS = ("id", "domain", "query", "instruction_og", "instruction_changed", "passages")
_PASSAGE_KEYS = ("id", "title", "text", "og", "changed", "kind")

OUTPUT_FILES = (
    "corpus.jsonl",
    "queries.jsonl",
    "qrels_og/test.tsv",
    "qrels_changed/test.tsv",
    "top_ranked.jsonl",
    "manifest.json",
)


@dataclass(frozen=True)
class SourcePassage:
    passage_id: str
    title: str
    text: str
    og: int
    changed: int
    kind: str


@dataclass(frozen=True)
class SourceTopic:
    topic_id: str
    domain: str
    query: str
    instruction_og: str
    instruction_changed: str
    passages: tuple[SourcePassage, ...]
    path: Path
    sha256: str

    def kind_counts(self) -> dict[str, int]:
        counts = Counter(p.kind for p in self.passages)
        return {k: counts.get(k, 0) for k in KINDS}


def word_count(text: str) -> int:
    """Words as whitespace-separated tokens: the unit of the 60-200 limit."""
    return len(text.split())


# -- reading and validating one source ---------------------------------------------------------
def _str_field(obj: Mapping[str, object], key: str, path: Path, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{where}: field {key!r} must be a non-empty string", path)
    return value


def _label(obj: Mapping[str, object], key: str, path: Path, where: str) -> int:
    value = obj.get(key)
    # exact int: JSON true and 1.0 compare equal to 1 but are not labels a reviewer wrote
    if type(value) is not int or value not in (0, 1):
        raise DataError(f"{where}: field {key!r} must be 0 or 1, not {value!r}", path)
    return value


def _passage(raw: object, topic_id: str, index: int, path: Path) -> SourcePassage:
    where = f"topic {topic_id!r}, passage #{index + 1}"
    if not isinstance(raw, dict):
        raise DataError(f"{where}: each passage must be a JSON object", path)
    missing = [k for k in _PASSAGE_KEYS if k not in raw]
    if missing:
        pid = raw.get("id", "?")
        raise DataError(f"{where} (id {pid!r}): missing field(s) {', '.join(missing)}", path)
    pid = _str_field(raw, "id", path, where)
    where = f"passage {pid!r}"
    if not pid.startswith(f"{topic_id}-"):
        raise DataError(f"{where}: passage ids must start with the topic id '{topic_id}-'", path)
    title = _str_field(raw, "title", path, where)
    text = _str_field(raw, "text", path, where)
    n = word_count(text)
    if not MIN_WORDS <= n <= MAX_WORDS:
        raise DataError(
            f"{where}: text has {n} words; passages must have {MIN_WORDS}-{MAX_WORDS}", path
        )
    kind = raw["kind"]
    if kind not in KINDS:
        raise DataError(f"{where}: unknown kind {kind!r}; choose one of {', '.join(KINDS)}", path)
    og = _label(raw, "og", path, where)
    changed = _label(raw, "changed", path, where)
    if (og, changed) != KINDS[kind]:
        want_og, want_changed = KINDS[kind]
        raise DataError(
            f"{where}: kind {kind!r} needs og={want_og}, changed={want_changed}, "
            f"but the labels are og={og}, changed={changed}",
            path,
        )
    return SourcePassage(pid, title, text, og, changed, kind)


def load_source(path: str | Path) -> SourceTopic:
    """Read and validate one topic source; raise DataError naming the file and the id."""
    path = Path(path)
    raw_bytes = path.read_bytes()
    try:
        data = json.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", path) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg} (column {exc.colno})", path, exc.lineno) from None
    if not isinstance(data, dict):
        raise DataError("a topic source must be a JSON object", path)
    missing = [k for k in _TOPIC_KEYS if k not in data]
    if missing:
        raise DataError(f"missing topic field(s) {', '.join(missing)}", path)
    tid = _str_field(data, "id", path, "topic")
    if tid != path.stem:
        raise DataError(f"topic id {tid!r} must match the file name {path.stem!r}", path)
    where = f"topic {tid!r}"
    domain = _str_field(data, "domain", path, where)
    query = _str_field(data, "query", path, where)
    og = _str_field(data, "instruction_og", path, where)
    changed = _str_field(data, "instruction_changed", path, where)
    if word_count(og) < MIN_INSTRUCTION_WORDS:
        raise DataError(
            f"{where}: instruction_og has {word_count(og)} words; a narrative needs at least "
            f"{MIN_INSTRUCTION_WORDS}",
            path,
        )
    if not _NEGATION.search(og):
        raise DataError(
            f"{where}: instruction_og states no exclusion (no 'not', 'no', 'exclude', ...); "
            "say what is not relevant, as TREC narratives do",
            path,
        )
    if not changed.startswith(og) or word_count(changed) <= word_count(og):
        raise DataError(
            f"{where}: instruction_changed must be instruction_og followed by the added "
            "constraint (it must start with the original text and be longer)",
            path,
        )

    raw_passages = data["passages"]
    if not isinstance(raw_passages, list):
        raise DataError(f"{where}: 'passages' must be a list", path)
    passages = tuple(_passage(p, tid, i, path) for i, p in enumerate(raw_passages))
    seen: set[str] = set()
    for p in passages:
        if p.passage_id in seen:
            raise DataError(f"{where}: duplicate passage id {p.passage_id!r}", path)
        seen.add(p.passage_id)
    if len(passages) < MIN_PASSAGES:
        raise DataError(
            f"{where}: {len(passages)} passages; a topic needs at least {MIN_PASSAGES}", path
        )
    topic = SourceTopic(tid, domain, query, og, changed, passages, path,
                        hashlib.sha256(raw_bytes).hexdigest())
    counts = topic.kind_counts()
    absent = [k for k, n in counts.items() if n == 0]
    if absent:
        raise DataError(f"{where}: no passage of kind {', '.join(absent)}; every kind is needed",
                        path)
    relevant = counts["kept"] + counts["excluded"] + counts["trap"]
    ratio = (counts["excluded"] + counts["trap"]) / relevant
    lo, hi = CHANGED_RATIO
    if not lo <= ratio <= hi:
        raise DataError(
            f"{where}: the altered narrative removes {ratio:.2f} of the {relevant} originally "
            f"relevant passages (excluded + trap over kept + excluded + trap); it must remove "
            f"between {lo} and {hi}",
            path,
        )
    return topic


def load_sources(sources_dir: str | Path) -> list[SourceTopic]:
    """All ``*.json`` topic sources of a directory, validated, sorted by topic id."""
    d = Path(sources_dir)
    if not d.is_dir():
        raise DataError("sources directory not found", d)
    files = sorted(d.glob("*.json"))
    if not files:
        raise DataError("no topic sources (*.json) found", d)
    topics = sorted((load_source(f) for f in files), key=lambda t: t.topic_id)
    owner: dict[str, Path] = {}
    for t in topics:
        for p in t.passages:
            if p.passage_id in owner:
                raise DataError(
                    f"passage id {p.passage_id!r} is also used in {owner[p.passage_id]}", t.path
                )
            owner[p.passage_id] = t.path
    return topics


# -- deriving the benchmark --------------------------------------------------------------------
def _distractors(topic: SourceTopic, topics: list[SourceTopic], k: int) -> list[str]:
    """``k`` passages of other topics, chosen by a hash so the choice is stable and unbiased."""
    others = [p.passage_id for t in topics if t.topic_id != topic.topic_id for p in t.passages]

    def key(pid: str) -> tuple[str, str]:
        return hashlib.sha256(f"{topic.topic_id}\t{pid}".encode()).hexdigest(), pid

    return sorted(sorted(others, key=key)[:k])


def _manifest(topics: list[SourceTopic], pools: dict[str, list[str]]) -> dict[str, object]:
    totals: Counter[str] = Counter()
    per_topic: dict[str, object] = {}
    for t in topics:
        counts = t.kind_counts()
        totals.update(counts)
        relevant = counts["kept"] + counts["excluded"] + counts["trap"]
        per_topic[t.topic_id] = {
            "domain": t.domain,
            "passages": len(t.passages),
            "kinds": counts,
            "relevant_og": relevant,
            "relevant_changed": counts["kept"],
            "changed_docs": counts["excluded"] + counts["trap"],
            "pool_size": len(pools[t.topic_id]),
        }
    return {
        "name": NAME,
        "license": "Apache-2.0",
        "topics": len(topics),
        "passages": sum(len(t.passages) for t in topics),
        "domains": sorted({t.domain for t in topics}),
        "kinds": {k: totals.get(k, 0) for k in KINDS},
        "pool_extra": POOL_EXTRA,
        "per_topic": per_topic,
        "sources": {t.path.name: t.sha256 for t in topics},
    }


def build_mini(sources_dir: str | Path, out_dir: str | Path) -> dict[str, object]:
    """Validate every source and write the plain FollowIR layout into ``out_dir``.

    Writes corpus.jsonl, queries.jsonl, qrels_og/test.tsv, qrels_changed/test.tsv,
    top_ranked.jsonl and manifest.json (other files in ``out_dir`` are left alone).
    Nothing is written unless every source is valid.  Returns the manifest.
    """
    topics = load_sources(sources_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    corpus = sorted(
        ({"_id": p.passage_id, "title": p.title, "text": p.text} for t in topics for p in t.passages),
        key=lambda r: r["_id"],
    )
    queries = [
        {
            "_id": t.topic_id,
            "text": t.query,
            "instruction_og": t.instruction_og,
            "instruction_changed": t.instruction_changed,
            "domain": t.domain,
        }
        for t in topics
    ]
    by_id = {t.topic_id: sorted(t.passages, key=lambda p: p.passage_id) for t in topics}
    qrels_og = {tid: {p.passage_id: p.og for p in ps} for tid, ps in by_id.items()}
    qrels_changed = {tid: {p.passage_id: p.changed for p in ps} for tid, ps in by_id.items()}
    pools = {
        t.topic_id: [p.passage_id for p in by_id[t.topic_id]] + _distractors(t, topics, POOL_EXTRA)
        for t in topics
    }
    manifest = _manifest(topics, pools)

    write_jsonl(out / "corpus.jsonl", corpus)
    write_jsonl(out / "queries.jsonl", queries)
    write_qrels_tsv(out / "qrels_og" / "test.tsv", qrels_og)
    write_qrels_tsv(out / "qrels_changed" / "test.tsv", qrels_changed)
    write_jsonl(out / "top_ranked.jsonl", ({"qid": q, "pids": pids} for q, pids in pools.items()))
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    logger.info("%s: %d topics, %d passages -> %s", NAME, len(topics), len(corpus), out)
    return manifest


def stale_files(sources_dir: str | Path, out_dir: str | Path) -> list[str]:
    """The derived files in ``out_dir`` that differ from a fresh build (empty: up to date)."""
    with tempfile.TemporaryDirectory(prefix="followir-mini-") as name:
        tmp = Path(name)
        build_mini(sources_dir, tmp)
        out = Path(out_dir)
        return [
            f
            for f in OUTPUT_FILES
            if not (out / f).is_file() or (out / f).read_bytes() != (tmp / f).read_bytes()
        ]


def bundled_dir() -> Path:
    """Where the shipped benchmark lives inside the installed package."""
    return Path(__file__).resolve().parent.parent / "data" / "bundled" / NAME


def bundled_sources_dir() -> Path:
    return bundled_dir() / "sources"
