"""The plain FollowIR layout: what followir reads offline and what it writes.

```
<dir>/corpus.jsonl            {"_id", "title", "text"}
<dir>/queries.jsonl           {"_id", "text", "instruction_og", "instruction_changed", ...}
<dir>/qrels_og/test.tsv       query-id  corpus-id  score   (BEIR qrels, with header)
<dir>/qrels_changed/test.tsv  the same, judged under the altered instruction
<dir>/top_ranked.jsonl        {"qid", "pids": [...]}        (optional: the pools)
<dir>/benchmark.json          {"name", "main_measure", "metadata"}  (optional)
```
Every ``.jsonl`` may be a ``.parquet`` file with the same columns instead.  Query fields
beyond the three above (``keywords``, ``short_query``, ...) survive in ``Query.extra``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from followir.data.jsonl import (
    Loc,
    Record,
    find_qrels,
    find_table,
    get_id,
    get_str,
    iter_table,
    pools_from_records,
    qrels_from_records,
    read_corpus,
    require_str,
    write_jsonl,
    write_qrels_tsv,
)
from followir.data.types import Benchmark, Query
from followir.errors import DataError

logger = logging.getLogger(__name__)

_QUERY_CORE = {"_id", "id", "text", "instruction", "instruction_og", "instruction_changed"}


def extra_value(value: object) -> str:
    """Extra fields are kept as strings (``Query.extra`` is ``Mapping[str, str]``); non-strings
    as JSON, so a list reads back as ``["a"]`` in every layout, never as a Python repr."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def query_from_record(loc: Loc, rec: Mapping[str, object]) -> Query:
    """A Query from a row: ``instruction_og`` or BEIR+'s single ``instruction`` field."""
    qid = get_id(loc, rec, "_id", "id")
    text = require_str(loc, rec, "text")
    og = get_str(loc, rec, "instruction_og")
    single = get_str(loc, rec, "instruction")
    if og is not None and single is not None and og != single:
        raise loc.error(
            f"query {qid!r} has both 'instruction' and 'instruction_og' and they differ; keep one"
        )
    extra = {k: extra_value(v) for k, v in rec.items() if k not in _QUERY_CORE and v is not None}
    return Query(
        query_id=qid,
        text=text,
        instruction_og=og if og is not None else (single or ""),
        instruction_changed=get_str(loc, rec, "instruction_changed"),
        extra=extra,
    )


def queries_from_records(
    records: Iterable[Record],
    make: Callable[[Loc, Mapping[str, object]], Query] = query_from_record,
) -> dict[str, Query]:
    """Queries keyed by id, each built by ``make``; a repeated id names both places."""
    queries: dict[str, Query] = {}
    seen: dict[str, Loc] = {}
    for loc, rec in records:
        q = make(loc, rec)
        if q.query_id in seen:
            raise loc.error(f"duplicate query id {q.query_id!r} (first at {seen[q.query_id]})")
        seen[q.query_id] = loc
        queries[q.query_id] = q
    return queries


def read_queries(path: str | Path) -> dict[str, Query]:
    """Queries from a ``.jsonl``/``.parquet`` file (e.g. the FollowIR instruction pairs)."""
    return queries_from_records(iter_table(path))


def is_plain(directory: str | Path, split: str = "test") -> bool:
    """The signature `detect_layout` recognises: ``qrels_og/<split>``, queries and corpus."""
    d = Path(directory)
    return bool(
        find_qrels(d / "qrels_og", split) and find_table(d, "queries") and find_table(d, "corpus")
    )


def _required_table(directory: Path, stem: str) -> Path:
    path = find_table(directory, stem)
    if path is None:
        raise DataError(f"missing {stem}.jsonl (or {stem}.parquet)", directory)
    return path


def _required_qrels(directory: Path, sub: str, split: str) -> Path:
    path = find_qrels(directory / sub, split)
    if path is None:
        raise DataError(f"missing {sub}/{split}.tsv (or .parquet)", directory)
    return path


def read_plain(directory: str | Path, name: str | None = None, split: str = "test") -> Benchmark:
    """Load a plain FollowIR directory; qrels_changed is optional (then no p-MRR)."""
    d = Path(directory)
    if not d.is_dir():
        raise DataError("not a directory", d)
    meta_file = d / "benchmark.json"
    meta: dict[str, object] = {}
    if meta_file.is_file():
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON ({exc.msg})", meta_file, exc.lineno) from None
        if not isinstance(meta, dict) or not isinstance(meta.get("metadata") or {}, dict):
            raise DataError('expected {"name", "main_measure", "metadata": {...}}', meta_file)
    corpus = read_corpus(_required_table(d, "corpus"))
    queries = read_queries(_required_table(d, "queries"))
    qrels_og = qrels_from_records(iter_table(_required_qrels(d, "qrels_og", split)))
    changed_path = find_qrels(d / "qrels_changed", split)
    qrels_changed = qrels_from_records(iter_table(changed_path)) if changed_path else None
    pools_path = find_table(d, "top_ranked")
    pools = pools_from_records(iter_table(pools_path)) if pools_path else None
    if qrels_changed is not None:
        missing = [q for q in qrels_changed if q in queries and queries[q].instruction_changed is None]
        if missing:
            raise DataError(
                f"qrels_changed judges queries without an 'instruction_changed': {missing[:5]}",
                d,
            )
    metadata: dict[str, object] = dict(meta.get("metadata") or {})
    if "source" in metadata and metadata["source"] != str(d):
        metadata.setdefault("origin", metadata["source"])  # provenance survives conversion
    metadata["source"] = str(d)
    metadata["layout"] = "plain"
    return Benchmark(
        name=name or str(meta.get("name") or d.name),
        queries=queries,
        corpus=corpus,
        qrels_og=qrels_og,
        qrels_changed=qrels_changed,
        pools=pools,
        main_measure=str(meta.get("main_measure") or "MAP@1000"),
        metadata=metadata,
    )


def _query_row(q: Query) -> dict[str, object]:
    row: dict[str, object] = {"_id": q.query_id, "text": q.text, "instruction_og": q.instruction_og}
    if q.instruction_changed is not None:
        row["instruction_changed"] = q.instruction_changed
    for k, v in q.extra.items():
        row.setdefault(k, v)
    return row


def write_plain(benchmark: Benchmark, directory: str | Path, split: str = "test") -> Path:
    """Write a benchmark as the plain layout (JSONL + BEIR qrels TSV); returns the directory."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    write_jsonl(
        d / "corpus.jsonl",
        ({"_id": doc.doc_id, "title": doc.title, "text": doc.text} for doc in benchmark.corpus.values()),
    )
    write_jsonl(d / "queries.jsonl", (_query_row(q) for q in benchmark.queries.values()))
    write_qrels_tsv(d / "qrels_og" / f"{split}.tsv", benchmark.qrels_og)
    if benchmark.qrels_changed is not None:
        write_qrels_tsv(d / "qrels_changed" / f"{split}.tsv", benchmark.qrels_changed)
    if benchmark.pools is not None:
        write_jsonl(
            d / "top_ranked.jsonl",
            ({"qid": qid, "pids": list(pids)} for qid, pids in benchmark.pools.items()),
        )
    meta = {
        "name": benchmark.name,
        "main_measure": benchmark.main_measure,
        "metadata": _jsonable(benchmark.metadata),
    }
    (d / "benchmark.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    logger.info("wrote %s (%d queries, %d documents) to %s", benchmark.name,
                len(benchmark.queries), len(benchmark.corpus), d)
    return d


def _jsonable(meta: Mapping[str, object]) -> dict[str, object]:
    """Metadata that survives JSON; anything else is dropped with a log line, never pickled."""
    out: dict[str, object] = {}
    for k, v in meta.items():
        try:
            json.dumps(v)
        except TypeError:
            logger.warning("metadata %r is not JSON-serialisable; not written", k)
            continue
        out[k] = v
    return out
