"""Line-aware readers and writers for the tables benchmarks are made of.

Every layout followir reads (plain FollowIR, BEIR(+), hub copies, mteb v2) is a handful of
tables: a corpus, queries, qrels and pools.  They arrive as JSONL, parquet, TSV or as rows
from ``datasets``.  This module turns all of them into *records* — ``(Loc, dict)`` pairs —
so that the code that builds documents, qrels and pools from them exists once and every
error it raises names the file and line (or row) at fault.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from followir.data.types import Document, Qrels
from followir.errors import DataError, MissingDependency

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".jsonl", ".parquet")


@dataclass(frozen=True)
class Loc:
    """Where a record came from: a text line (JSONL, TSV) or a row number (parquet, hub)."""

    source: str
    line: int | None = None
    row: int | None = None

    def error(self, message: str) -> DataError:
        if self.line is None and self.row is not None:
            message = f"row {self.row}: {message}"
        return DataError(message, self.source, self.line)

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        if self.row is not None:
            return f"{self.source} row {self.row}"
        return self.source


Record = tuple[Loc, Mapping[str, object]]


# -- sources of records -------------------------------------------------------------------
def read_json_file(path: str | Path) -> object:
    """A whole JSON file (settings, model cards): a missing file or bad JSON is a
    `DataError` naming the file and, for bad JSON, the line."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("file is missing", path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not valid JSON: {exc}", path, getattr(exc, "lineno", None)) from None


def iter_jsonl(path: str | Path) -> Iterator[Record]:
    """One record per non-blank line; bad JSON or a non-object names the line."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            loc = Loc(str(path), line=lineno)
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise loc.error(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(obj, dict):
                raise loc.error(f"expected a JSON object, got {type(obj).__name__}")
            yield loc, obj


def iter_parquet(path: str | Path) -> Iterator[Record]:
    """One record per parquet row (pyarrow imported lazily: the `parquet` extra)."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependency("pyarrow", "parquet") from exc
    path = Path(path)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise DataError(f"cannot read parquet file: {exc}", path) from None
    for i, row in enumerate(table.to_pylist(), start=1):
        yield Loc(str(path), row=i), row


def iter_rows(rows: Iterable[Mapping[str, object]], source: str) -> Iterator[Record]:
    """Records from in-memory rows (a ``datasets`` split), located by row number."""
    for i, row in enumerate(rows, start=1):
        yield Loc(source, row=i), row


def iter_table(path: str | Path) -> Iterator[Record]:
    """Records of a table file, chosen by suffix: ``.jsonl``/``.json`` (JSON lines),
    ``.parquet``, or ``.tsv``/``.txt``/``.csv`` (BEIR qrels, see `iter_qrels_tsv`)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return iter_parquet(path)
    if path.suffix in (".jsonl", ".json"):
        return iter_jsonl(path)
    if path.suffix in (".tsv", ".txt", ".csv"):
        return iter_qrels_tsv(path)
    raise DataError(
        f"unsupported table format {path.suffix!r} (use .jsonl, .parquet or a qrels .tsv)", path
    )


def iter_qrels_tsv(path: str | Path) -> Iterator[Record]:
    """BEIR qrels TSV as records with keys ``query-id``, ``corpus-id``, ``score``.

    The columns are positional: BEIR writes the header ``query-id corpus-id score`` and
    InstructIR writes ``qid pid score``; both mean the same thing.  A first non-blank line
    whose score column is not a number is taken as the header.
    """
    path = Path(path)
    first = True
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            parts = raw.rstrip("\n\r").split("\t")
            if len(parts) == 1:
                parts = raw.split()
            loc = Loc(str(path), line=lineno)
            if len(parts) == 4:
                raise loc.error(
                    "4 columns: this looks like a TREC qrels file (qid 0 docid rel); "
                    "read it with followir.data.trec.read_qrels"
                )
            if len(parts) != 3:
                raise loc.error(
                    f"expected 3 tab-separated columns (query-id corpus-id score), got {len(parts)}"
                )
            is_header = first and not _is_number(parts[2])
            first = False
            if is_header:
                continue
            yield loc, {"query-id": parts[0], "corpus-id": parts[1], "score": parts[2]}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- field access -------------------------------------------------------------------------
def get_id(loc: Loc, rec: Mapping[str, object], *names: str) -> str:
    """The first present id field among ``names``, as a string (JSON ints become str)."""
    for name in names:
        if name in rec and rec[name] is not None:
            return as_id(loc, rec[name], name)
    raise loc.error(f"missing field {' or '.join(repr(n) for n in names)}")


def as_id(loc: Loc, value: object, name: str = "id") -> str:
    """Normalise an id: strings stay, integers become their decimal string."""
    if isinstance(value, bool):
        raise loc.error(f"{name} must be a string or integer, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        if not value.strip():
            raise loc.error(f"{name} is empty")
        return value.strip()
    raise loc.error(f"{name} must be a string or integer, got {type(value).__name__}")


def get_str(
    loc: Loc, rec: Mapping[str, object], name: str, default: str | None = None
) -> str | None:
    """A text field; ``default`` when absent or null, an error when of another type."""
    value = rec.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise loc.error(f"field {name!r} must be a string, got {type(value).__name__}")
    return value


def require_str(loc: Loc, rec: Mapping[str, object], name: str) -> str:
    value = get_str(loc, rec, name)
    if value is None:
        raise loc.error(f"missing field {name!r}")
    return value


def as_score(loc: Loc, value: object) -> int:
    """Relevance grades are integers (pytrec_eval and mteb both require it)."""
    if isinstance(value, bool):
        raise loc.error(f"score {value!r} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                f = float(value)
            except ValueError:
                f = None
            if f is not None and f.is_integer():
                return int(f)
    raise loc.error(f"score {value!r} is not an integer relevance grade")


# -- tables -------------------------------------------------------------------------------
def corpus_from_records(records: Iterable[Record]) -> dict[str, Document]:
    """Documents keyed by id from records with ``_id`` (or ``id``), ``text``, ``title``."""
    corpus: dict[str, Document] = {}
    seen: dict[str, Loc] = {}
    for loc, rec in records:
        did = get_id(loc, rec, "_id", "id", "docid", "doc_id")
        if did in seen:
            raise loc.error(f"duplicate document id {did!r} (first at {seen[did]})")
        seen[did] = loc
        text = get_str(loc, rec, "text")
        if text is None:
            raise loc.error(f"document {did!r}: missing field 'text'")
        corpus[did] = Document(doc_id=did, text=text, title=get_str(loc, rec, "title", "") or "")
    return corpus


def qrels_from_records(
    records: Iterable[Record],
    qid_field: tuple[str, ...] = ("query-id", "query_id", "qid"),
    did_field: tuple[str, ...] = ("corpus-id", "corpus_id", "docid", "pid"),
    score_field: str = "score",
) -> Qrels:
    """Qrels from records; a repeated (query, document) pair is an error, not a silent overwrite."""
    qrels: Qrels = {}
    seen: dict[tuple[str, str], Loc] = {}
    for loc, rec in records:
        qid = get_id(loc, rec, *qid_field)
        did = get_id(loc, rec, *did_field)
        if score_field not in rec:
            raise loc.error(f"missing field {score_field!r}")
        score = as_score(loc, rec[score_field])
        if (qid, did) in seen:
            raise loc.error(
                f"duplicate judgment for query {qid!r}, document {did!r} (first at {seen[qid, did]})"
            )
        seen[qid, did] = loc
        qrels.setdefault(qid, {})[did] = score
    return qrels


def pools_from_records(
    records: Iterable[Record],
    qid_field: tuple[str, ...] = ("qid", "query-id", "query_id"),
    pids_field: tuple[str, ...] = ("pids", "corpus-ids", "corpus_ids"),
    pid_field: tuple[str, ...] = ("pid", "corpus-id", "docid"),
) -> dict[str, list[str]]:
    """Reranking pools from list rows (``{"qid", "pids": [...]}``) or pair rows (``qid, pid``).

    The FollowIR hub stores one (qid, pid) pair per row; the plain layout and mteb v2 store
    one list per query.  Both are accepted, even mixed; a document listed twice for one
    query is an error (it would be scored twice and distort pool-relative ranks).
    """
    pools: dict[str, list[str]] = {}
    members: dict[str, set[str]] = {}
    list_rows: dict[str, Loc] = {}
    for loc, rec in records:
        qid = get_id(loc, rec, *qid_field)
        list_name = next((f for f in pids_field if f in rec), None)
        if list_name is not None:
            value = rec[list_name]
            if not isinstance(value, list | tuple):
                raise loc.error(f"field {list_name!r} must be a list of document ids")
            if qid in list_rows:
                raise loc.error(f"duplicate pool for query {qid!r} (first at {list_rows[qid]})")
            list_rows[qid] = loc
            pids = [as_id(loc, v, list_name) for v in value]
        else:
            pids = [get_id(loc, rec, *pid_field)]
        pool = pools.setdefault(qid, [])
        got = members.setdefault(qid, set())
        for pid in pids:
            if pid in got:
                raise loc.error(f"document {pid!r} listed twice in the pool of query {qid!r}")
            got.add(pid)
            pool.append(pid)
    return pools


# -- file-level convenience -----------------------------------------------------------------
def read_corpus(path: str | Path) -> dict[str, Document]:
    return corpus_from_records(iter_table(path))


def read_qrels_table(path: str | Path) -> Qrels:
    """BEIR qrels from ``.tsv`` (header ``query-id corpus-id score``) or ``.parquet``."""
    return qrels_from_records(iter_table(path))


def read_pools(path: str | Path) -> dict[str, list[str]]:
    """``top_ranked.jsonl`` / ``.parquet`` → ``{qid: [pid, ...]}``."""
    return pools_from_records(iter_table(path))


def find_table(directory: Path, stem: str) -> Path | None:
    """``<dir>/<stem>.jsonl`` or ``.parquet``; refuses to guess when both exist."""
    return _one_file(directory, stem, TABLE_SUFFIXES)


def find_qrels(directory: Path, split: str) -> Path | None:
    """``<dir>/<split>.tsv`` or ``.parquet``; refuses to guess when both exist."""
    return _one_file(directory, split, (".tsv", ".parquet"))


def _one_file(directory: Path, stem: str, suffixes: tuple[str, ...]) -> Path | None:
    found = [directory / f"{stem}{s}" for s in suffixes if (directory / f"{stem}{s}").is_file()]
    if len(found) > 1:
        raise DataError(f"both {found[0].name} and {found[1].name} exist; keep one", directory)
    return found[0] if found else None


# -- writers --------------------------------------------------------------------------------
def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, object]]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_qrels_tsv(path: str | Path, qrels: Qrels) -> None:
    """BEIR qrels with the ``query-id corpus-id score`` header."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in qrels.items():
            for did, score in docs.items():
                fh.write(f"{qid}\t{did}\t{int(score)}\n")
