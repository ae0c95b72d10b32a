"""TREC files as NIST distributes them: topics, qrels, run files and SGML document files.

FollowIR's instructions *are* TREC narratives, so reading topics is how an instruction
benchmark is born: ``<desc>`` becomes the query text, ``<narr>`` the original instruction
and ``<title>`` the keywords.  Every parse error names the file and line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from followir.data.types import Benchmark, Document, Qrels, Query, Run
from followir.errors import DataError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topic:
    """One TREC topic; ``line`` is where it starts, for error messages downstream."""

    topic_id: str
    title: str
    description: str = ""
    narrative: str = ""
    line: int | None = None

    def to_query(self) -> Query:
        """The FollowIR reading: description as query, narrative as the instruction."""
        extra = {"keywords": self.title} if self.title else {}
        return Query(
            query_id=self.topic_id,
            text=self.description or self.title,
            instruction_og=self.narrative,
            extra=extra,
        )


def _clean(text: str) -> str:
    return " ".join(text.split())


# -- topics -----------------------------------------------------------------------------------
_TOP = re.compile(r"<top>(.*?)</top>", re.S | re.I)
_FIELD = re.compile(r"<(num|title|desc|narr)>", re.I)
_ANY_TAG = re.compile(r"</?[a-z]+>", re.I)
_PREFIX = {
    "num": re.compile(r"^\s*Number\s*:?", re.I),
    "desc": re.compile(r"^\s*Description\s*:?", re.I),
    "narr": re.compile(r"^\s*Narrative\s*:?", re.I),
    "title": re.compile(r"^\s*(Topic\s*:)?", re.I),
}


def read_topics(path: str | Path) -> dict[str, Topic]:
    """Topics from a classic ``<top>`` file or a TREC-COVID XML file (chosen by content)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    if "<topics" in text[:2000] and "<topic " in text:
        return _read_xml_topics(path, text)
    return _read_classic_topics(path, text)


def _read_classic_topics(path: Path, text: str) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    opened = len(re.findall(r"<top>", text, re.I))
    matches = list(_TOP.finditer(text))
    for m in matches:
        line = text.count("\n", 0, m.start()) + 1
        body = m.group(1)
        inner = re.search(r"<top>", body, re.I)
        if inner is not None:  # the topic starting at `line` lacks its </top>
            raise DataError("<top> never closed before the next <top>", path, line)
        fields: dict[str, str] = {}
        tags = list(_FIELD.finditer(body))
        for i, t in enumerate(tags):
            end = tags[i + 1].start() if i + 1 < len(tags) else len(body)
            value = body[t.end() : end]
            value = _ANY_TAG.sub(" ", value)  # closing tags such as </num>, </title>
            name = t.group(1).lower()
            fields[name] = _clean(_PREFIX[name].sub("", value, count=1))
        if not fields.get("num"):
            raise DataError("topic without a <num>", path, line)
        tid = fields["num"].split()[0]
        if tid in topics:
            raise DataError(f"duplicate topic number {tid!r} (first at line {topics[tid].line})", path, line)
        if not fields.get("title") and not fields.get("desc"):
            raise DataError(f"topic {tid!r} has neither <title> nor <desc>", path, line)
        topics[tid] = Topic(
            topic_id=tid,
            title=fields.get("title", ""),
            description=fields.get("desc", ""),
            narrative=fields.get("narr", ""),
            line=line,
        )
    if opened != len(matches):
        last = matches[-1].end() if matches else 0
        line = text.count("\n", 0, last) + 1
        raise DataError(f"{opened} <top> but {len(matches)} complete topics (unclosed <top>?)", path, line)
    if not topics:
        raise DataError("no <top> topics found", path)
    return topics


def _read_xml_topics(path: Path, text: str) -> dict[str, Topic]:
    """TREC-COVID style: ``<topic number=..><query/><question/><narrative/></topic>``."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise DataError(f"invalid XML: {exc}", path, exc.position[0]) from None
    topics: dict[str, Topic] = {}
    for el in root.iter("topic"):
        tid = el.get("number")
        if not tid:
            raise DataError("<topic> without a number attribute", path)

        def field(tag: str, el: ET.Element = el) -> str:
            child = el.find(tag)
            return _clean(child.text or "") if child is not None else ""

        if tid in topics:
            raise DataError(f"duplicate topic number {tid!r}", path)
        topics[tid] = Topic(
            topic_id=tid,
            title=field("query"),
            description=field("question"),
            narrative=field("narrative"),
        )
    if not topics:
        raise DataError("no <topic> elements found", path)
    return topics


def topics_to_queries(topics: Mapping[str, Topic]) -> dict[str, Query]:
    return {tid: t.to_query() for tid, t in topics.items()}


# -- qrels ------------------------------------------------------------------------------------
def read_qrels(path: str | Path) -> Qrels:
    """``qid iter docno rel`` (the iteration column is ignored; TREC-COVID uses round numbers)."""
    path = Path(path)
    qrels: Qrels = {}
    seen: dict[tuple[str, str], int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise DataError(f"expected 4 columns (qid iter docno rel), got {len(parts)}", path, lineno)
            qid, _, did, rel = parts
            try:
                grade = int(rel)
            except ValueError:
                raise DataError(f"relevance {rel!r} is not an integer", path, lineno) from None
            if (qid, did) in seen:
                raise DataError(
                    f"duplicate judgment for query {qid!r}, document {did!r} (first at line {seen[qid, did]})",
                    path,
                    lineno,
                )
            seen[qid, did] = lineno
            qrels.setdefault(qid, {})[did] = grade
    return qrels


def write_qrels(path: str | Path, qrels: Qrels) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for qid, docs in qrels.items():
            for did, rel in docs.items():
                fh.write(f"{qid} 0 {did} {int(rel)}\n")


# -- runs -------------------------------------------------------------------------------------
def read_run(path: str | Path) -> Run:
    """``qid Q0 docid rank score tag``; the rank column is ignored (scores decide, as in trec_eval)."""
    path = Path(path)
    run: Run = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise DataError(
                    f"expected 6 columns (qid Q0 docid rank score tag), got {len(parts)}", path, lineno
                )
            qid, _, did, _, score, _ = parts
            try:
                value = float(score)
            except ValueError:
                raise DataError(f"score {score!r} is not a number", path, lineno) from None
            docs = run.setdefault(qid, {})
            if did in docs:
                raise DataError(f"document {did!r} appears twice for query {qid!r}", path, lineno)
            docs[did] = value
    return run


def write_run(path: str | Path, run: Mapping[str, Mapping[str, float]], tag: str = "followir") -> None:
    """Write a run with ranks that follow trec_eval's ordering (score desc, doc id desc)."""
    from followir.metrics.ranking import ranked_ids

    if not tag or any(c.isspace() for c in tag):
        raise DataError(f"run tag must be one non-empty word, not {tag!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for qid, scores in run.items():
            for rank, did in enumerate(ranked_ids(scores), start=1):
                fh.write(f"{qid} Q0 {did} {rank} {float(scores[did])!r} {tag}\n")


# -- SGML documents -----------------------------------------------------------------------------
_DOCNO = re.compile(r"<DOCNO>\s*(.*?)\s*</DOCNO>", re.I | re.S)
_TEXT = re.compile(r"<TEXT>(.*?)</TEXT>", re.I | re.S)
_TITLE = re.compile(r"<(HEADLINE|TITLE|HEAD)>(.*?)</\1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


def iter_trec_docs(path: str | Path) -> Iterator[tuple[int, Document]]:
    """Stream ``(start line, Document)`` from a ``<DOC><DOCNO>..</DOCNO>...</DOC>`` file.

    The text is the ``<TEXT>`` sections when present, otherwise everything but the DOCNO;
    a ``<HEADLINE>``/``<TITLE>`` element becomes the title.
    """
    path = Path(path)
    start: int | None = None
    buf: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, start=1):
            upper = raw.strip().upper()
            if upper.startswith("<DOC>"):
                if start is not None:
                    raise DataError(f"<DOC> inside the document opened at line {start}", path, lineno)
                start = lineno
                buf = [raw.strip()[5:]]
                if "</DOC>" not in upper:
                    continue
            elif start is None:
                if raw.strip():
                    raise DataError("text outside <DOC> ... </DOC>", path, lineno)
                continue
            else:
                buf.append(raw)
            if "</DOC>" in upper:
                body = "".join(buf)
                body = body[: body.upper().rfind("</DOC>")]
                yield start, _make_doc(body, path, start)
                start, buf = None, []
    if start is not None:
        raise DataError("<DOC> never closed", path, start)


def _make_doc(body: str, path: Path, line: int) -> Document:
    m = _DOCNO.search(body)
    if m is None or not m.group(1):
        raise DataError("<DOC> without a <DOCNO>", path, line)
    docno = m.group(1)
    rest = body[: m.start()] + body[m.end() :]
    title_m = _TITLE.search(rest)
    title = _clean(_TAG.sub(" ", title_m.group(2))) if title_m else ""
    texts = _TEXT.findall(rest)
    if texts:
        text = " ".join(texts)
    else:
        text = _TITLE.sub(" ", rest) if title_m else rest
    return Document(doc_id=docno, text=_clean(_TAG.sub(" ", text)), title=title)


def read_trec_docs(path: str | Path) -> dict[str, Document]:
    path = Path(path)
    docs: dict[str, Document] = {}
    first: dict[str, int] = {}
    for line, doc in iter_trec_docs(path):
        if doc.doc_id in docs:
            raise DataError(f"duplicate DOCNO {doc.doc_id!r} (first at line {first[doc.doc_id]})", path, line)
        docs[doc.doc_id] = doc
        first[doc.doc_id] = line
    return docs


# -- a directory of TREC files ----------------------------------------------------------------
def _head(path: Path) -> str:
    """The first 4 KiB, lower-cased: enough to tell topics from documents."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return fh.read(4096).lower()
    except OSError:
        return ""


def find_trec_files(directory: str | Path) -> tuple[Path, Path, list[Path]] | None:
    """(topics, qrels, document files) in a directory, or None when it is not a TREC set."""
    d = Path(directory)
    files = sorted(p for p in d.iterdir() if p.is_file())
    qrels = [p for p in files if "qrel" in p.name.lower()]
    heads = {p: _head(p) for p in files if p not in qrels}
    topics = [p for p, h in heads.items() if "<top>" in h or "<topics" in h]
    docs = [p for p, h in heads.items() if p not in topics and "<doc>" in h]
    if len(qrels) == 1 and len(topics) == 1 and docs:
        return topics[0], qrels[0], docs
    return None


def read_trec_dir(directory: str | Path, name: str | None = None, main_measure: str = "MAP@1000") -> Benchmark:
    """A benchmark from one topics file, one qrels file and SGML document files."""
    d = Path(directory)
    found = find_trec_files(d)
    if found is None:
        raise DataError(
            "not a TREC directory: need one topics file (<top>), one qrels file "
            "(name containing 'qrels') and <DOC> document files",
            d,
        )
    topics_path, qrels_path, doc_paths = found
    corpus: dict[str, Document] = {}
    first: dict[str, tuple[Path, int]] = {}
    for p in doc_paths:
        for line, doc in iter_trec_docs(p):
            if doc.doc_id in first:
                where, at = first[doc.doc_id]
                raise DataError(f"duplicate DOCNO {doc.doc_id!r} (first at {where}:{at})", p, line)
            first[doc.doc_id] = (p, line)
            corpus[doc.doc_id] = doc
    queries = topics_to_queries(read_topics(topics_path))
    qrels = read_qrels(qrels_path)
    unknown = sorted(set(qrels) - set(queries))
    if unknown:
        raise DataError(f"qrels judge topics missing from {topics_path.name}: {unknown[:5]}", qrels_path)
    return Benchmark(
        name=name or d.name,
        queries=queries,
        corpus=corpus,
        qrels_og=qrels,
        main_measure=main_measure,
        metadata={"source": str(d), "layout": "trec"},
    )
