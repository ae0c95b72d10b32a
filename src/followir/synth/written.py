"""Training rows from hand-written passages on real TREC topics (``followir synth --written``).

A small model is a useless document writer (see ``bench/teach_smollm2.sh``), so the team
wrote the documents: for each Robust04 topic, one narrowing *constraint* sentence and eight
passages labelled under the TREC narrative (``og``) and under narrative + constraint
(``changed``).  The TREC text itself is not ours to redistribute, so the bundled files hold
only the topic number, the constraint and the passages; the query and the narrative are read
from the user's own TREC topic file when the training set is built.

Every passage is emitted under *both* instructions with its label for each, so the training
set is contrastive: the same text is relevant under the original instruction and not
relevant under the narrowed one (kinds ``excluded`` and ``trap``), which is exactly the
behaviour p-MRR measures.  Query = the topic's ``<title>`` (keywords, the style of the
followir-mini queries), instruction = ``<narr>`` / ``<narr> + " " + constraint``.

File layout (``topics/rNNN.json``)::

    {"topic": "NNN", "constraint": "...",
     "passages": [{"id", "title", "text", "og": 0|1, "changed": 0|1, "kind"}, ...]}
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from followir.errors import DataError

log = logging.getLogger(__name__)

BUNDLED = ("teach-robust04",)
# kind -> (og, changed): the labels each kind must carry
KINDS = {
    "kept": (1, 1),
    "excluded": (1, 0),
    "trap": (1, 0),
    "negated": (0, 0),
    "hard_negative": (0, 0),
}
QUERY_FIELDS = ("title", "description")


@dataclass(frozen=True)
class WrittenTopic:
    topic: str
    constraint: str
    passages: list[dict[str, object]]
    source: str


def written_dir(name_or_dir: str | Path) -> Path:
    """A bundled set (``teach-robust04``) or a folder holding ``topics/*.json`` (or the
    ``*.json`` files themselves)."""
    if str(name_or_dir) in BUNDLED:
        root = resources.files("followir") / "data" / "bundled" / str(name_or_dir) / "topics"
        return Path(str(root))
    path = Path(name_or_dir)
    if (path / "topics").is_dir():
        path = path / "topics"
    if not path.is_dir():
        raise DataError(f"no written set here; expected a folder of rNNN.json or one of {BUNDLED}", path)
    return path


def _check(path: Path, doc: object) -> WrittenTopic:
    if not isinstance(doc, dict):
        raise DataError("expected a JSON object {topic, constraint, passages}", path)
    for key in ("topic", "constraint", "passages"):
        if key not in doc:
            raise DataError(f"missing field {key!r}", path)
    constraint = doc["constraint"]
    if not isinstance(constraint, str) or not constraint.strip():
        raise DataError("empty constraint", path)
    passages = doc["passages"]
    if not isinstance(passages, list) or not passages:
        raise DataError("passages must be a non-empty list", path)
    ids: set[str] = set()
    for n, p in enumerate(passages):
        where = f"passage {n} ({p.get('id', '?') if isinstance(p, dict) else '?'})"
        if not isinstance(p, dict):
            raise DataError(f"{where}: expected an object", path)
        missing = [k for k in ("id", "text", "og", "changed", "kind") if k not in p]
        if missing:
            raise DataError(f"{where}: missing field(s) {missing}", path)
        if p["kind"] not in KINDS:
            raise DataError(f"{where}: unknown kind {p['kind']!r}; valid: {', '.join(KINDS)}", path)
        if (p["og"], p["changed"]) != KINDS[p["kind"]]:
            raise DataError(
                f"{where}: kind {p['kind']!r} needs og={KINDS[p['kind']][0]} changed={KINDS[p['kind']][1]}, "
                f"not og={p['og']!r} changed={p['changed']!r}",
                path,
            )
        if not isinstance(p["text"], str) or not p["text"].strip():
            raise DataError(f"{where}: empty text", path)
        if str(p["id"]) in ids:  # compared as the str the rows carry (5 and "5" collide)
            raise DataError(f"{where}: duplicate id {p['id']!r}", path)
        ids.add(str(p["id"]))
    return WrittenTopic(str(doc["topic"]).strip(), " ".join(constraint.split()), passages, str(path))


def read_written(name_or_dir: str | Path) -> list[WrittenTopic]:
    """Every topic file of a written set, validated (kinds agree with their labels)."""
    root = written_dir(name_or_dir)
    files = sorted(root.glob("*.json"))
    if not files:
        raise DataError("no *.json topic files", root)
    out = []
    for f in files:
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", f, exc.lineno) from None
        out.append(_check(f, doc))
    return out


def written_rows(
    name_or_dir: str | Path,
    topics_path: str | Path,
    *,
    query_field: str = "title",
) -> list[dict[str, object]]:
    """Contrastive training rows: each passage under the original and the narrowed
    instruction, in the ``followir filter`` output layout that ``followir train`` reads."""
    from followir.data.trec import read_topics

    if query_field not in QUERY_FIELDS:
        raise DataError(f"query field must be one of {QUERY_FIELDS}, not {query_field!r}")
    trec = read_topics(topics_path)
    name = Path(str(name_or_dir)).name
    rows: list[dict[str, object]] = []
    written = read_written(name_or_dir)
    for wt in written:
        topic = trec.get(wt.topic)
        if topic is None:
            raise DataError(f"topic {wt.topic!r} (from {wt.source}) is not in the TREC topic file", topics_path)
        query = topic.title if query_field == "title" else topic.description
        query = " ".join((query or topic.description or topic.title).split())
        narrative = " ".join(topic.narrative.split())
        if not narrative:
            raise DataError(f"topic {wt.topic!r} has no <narr> to use as instruction", topics_path)
        variants = (("og", narrative), ("changed", f"{narrative} {wt.constraint}"))
        for variant, instruction in variants:
            for p in wt.passages:
                title = str(p.get("title") or "").strip()
                text = " ".join(str(p["text"]).split())
                rows.append(
                    {
                        "pair_id": f"{name}:{wt.topic}:{variant}",
                        "query": query,
                        "instruction": instruction,
                        "doc_id": str(p["id"]),
                        "document": f"{title}\n{text}" if title else text,  # as Doc.text renders it
                        "label": int(p[variant]),  # type: ignore[call-overload]
                        "kind": str(p["kind"]),
                        "variant": variant,
                        "generator": f"written:{name}",
                    }
                )
    log.info("%d written rows from %d topics", len(rows), len(written))
    return rows
