"""The two Hugging Face layouts of the FollowIR sets, read from the Hub or from a local copy.

*FollowIR hub layout* (``jhu-clsp/{robust04,news21,core17}-instructions``), configs:
``corpus`` (_id, title, text), ``queries`` (_id, text, instruction_og, instruction_changed,
keywords, short_query), ``qrels_og`` and ``qrels_changed`` (query-id, corpus-id, score),
``top_ranked`` (qid, pid — one pair per row).

*mteb v2 layout* (``mteb/Robust04InstructionRetrieval``), configs: ``corpus``, ``queries``
(ids suffixed ``-og`` / ``-changed``), ``instruction`` (query-id, instruction), ``default``
(qrels keyed by the suffixed ids), ``top_ranked`` (query-id, corpus-ids) and ``qrel_diff``
(query-id, corpus-ids).  The suffixes are undone here: each pair becomes one `Query` with
both instructions, so nothing downstream ever handles ``-og`` strings.

Both readers take a *table source* — a function from config name to records — so the
same conversion code runs on ``datasets.load_dataset`` splits and on local files
(``<dir>/<config>/<split>*.jsonl|parquet`` or ``<dir>/<config>.jsonl|parquet``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from followir.data.jsonl import (
    Record,
    corpus_from_records,
    get_id,
    get_str,
    iter_rows,
    iter_table,
    pools_from_records,
    qrels_from_records,
)
from followir.data.plain import extra_value, queries_from_records
from followir.data.types import Benchmark, Qrels, Query
from followir.errors import DataError, MissingDependency

logger = logging.getLogger(__name__)

FOLLOWIR_CONFIGS = ("corpus", "queries", "qrels_og", "qrels_changed", "top_ranked")
MTEB_CONFIGS = ("corpus", "queries", "instruction", "default", "top_ranked", "qrel_diff")
OG, CHANGED = "-og", "-changed"

# config name -> its records, or None when the source has no such config.
TableSource = Callable[[str], Iterable[Record] | None]


# -- table sources --------------------------------------------------------------------------
def local_tables(directory: str | Path, split: str = "test") -> tuple[TableSource, set[str]]:
    """A table source over a local copy, and the set of configs it holds."""
    d = Path(directory)
    if not d.is_dir():
        raise DataError("not a directory", d)

    def files_of(config: str) -> list[Path]:
        sub = d / config
        if sub.is_dir():
            data = sorted(p for p in sub.iterdir() if p.suffix in (".jsonl", ".parquet", ".tsv"))
            for_split = [p for p in data if p.name.startswith(split)]
            if for_split:
                return for_split
            stems = {p.name.split("-")[0].split(".")[0] for p in data}
            if len(stems) == 1:  # one split only (e.g. corpus/corpus.jsonl): use it
                return data
            if data:
                raise DataError(f"config {config!r} has no split {split!r} (has {sorted(stems)})", sub)
            return []
        return [p for p in (d / f"{config}.jsonl", d / f"{config}.parquet") if p.is_file()]

    present = {c for c in {*FOLLOWIR_CONFIGS, *MTEB_CONFIGS, "qrels"} if files_of(c)}

    def source(config: str) -> Iterable[Record] | None:
        files = files_of(config)
        if not files:
            return None
        return (rec for f in files for rec in iter_table(f))

    return source, present


def hub_tables(repo: str, split: str = "test", revision: str | None = None) -> tuple[TableSource, set[str]]:
    """A table source over ``datasets.load_dataset(repo, config)`` (needs the `hub` extra)."""
    try:
        import datasets
    except ImportError as exc:
        raise MissingDependency("datasets", "hub") from exc
    present = set(datasets.get_dataset_config_names(repo, revision=revision))

    def source(config: str) -> Iterable[Record] | None:
        if config not in present:
            return None
        dd = datasets.load_dataset(repo, config, revision=revision)
        splits = list(dd.keys())
        chosen = split if split in dd else (splits[0] if len(splits) == 1 else None)
        if chosen is None:
            raise DataError(f"config {config!r} has no split {split!r} (has {splits})", repo)
        return iter_rows(dd[chosen], f"{repo}:{config}/{chosen}")

    return source, present


# -- layout detection -------------------------------------------------------------------------
def layout_of(configs: set[str]) -> str | None:
    """``"followir"`` or ``"mteb"`` from the configs present, else None."""
    if {"corpus", "queries", "qrels_og"} <= configs:
        return "followir"
    if {"corpus", "queries"} <= configs and ({"default", "qrels"} & configs):
        return "mteb"
    return None


# -- conversions (shared by the hub and local paths) ------------------------------------------
def _need(tables: TableSource, config: str, where: str) -> Iterable[Record]:
    recs = tables(config)
    if recs is None:
        raise DataError(f"missing config {config!r}", where)
    return recs


def from_followir_tables(
    tables: TableSource, name: str, where: str, main_measure: str = "MAP@1000"
) -> Benchmark:
    """The FollowIR hub layout → Benchmark."""
    corpus = corpus_from_records(_need(tables, "corpus", where))
    queries = queries_from_records(_need(tables, "queries", where))
    qrels_og = qrels_from_records(_need(tables, "qrels_og", where))
    changed = tables("qrels_changed")
    qrels_changed = qrels_from_records(changed) if changed is not None else None
    top = tables("top_ranked")
    pools = pools_from_records(top) if top is not None else None
    return Benchmark(
        name=name,
        queries=queries,
        corpus=corpus,
        qrels_og=qrels_og,
        qrels_changed=qrels_changed,
        pools=pools,
        main_measure=main_measure,
        metadata={"source": where, "layout": "followir-hub"},
    )


def split_suffix(qid: str) -> tuple[str, str]:
    """``"301-og"`` → ``("301", "og")``; an unsuffixed id counts as original."""
    if qid.endswith(OG):
        return qid[: -len(OG)], "og"
    if qid.endswith(CHANGED):
        return qid[: -len(CHANGED)], "changed"
    return qid, "og"


def _split_qrels(qrels: Qrels, where: str) -> tuple[Qrels, Qrels]:
    og: Qrels = {}
    changed: Qrels = {}
    for qid, docs in qrels.items():
        base, which = split_suffix(qid)
        target = og if which == "og" else changed
        if base in target:
            raise DataError(f"qrels for {base!r} given both with and without the '-og' suffix", where)
        target[base] = docs
    return og, changed


def from_mteb_tables(
    tables: TableSource, name: str, where: str, main_measure: str = "MAP@1000"
) -> Benchmark:
    """The mteb v2 layout → Benchmark, pairing ``-og``/``-changed`` queries into one Query."""
    corpus = corpus_from_records(_need(tables, "corpus", where))

    instructions: dict[str, str] = {}
    instr = tables("instruction")
    if instr is not None:
        for loc, rec in instr:
            qid = get_id(loc, rec, "query-id", "query_id", "_id", "id")
            text = get_str(loc, rec, "instruction")
            if text is None:
                raise loc.error(f"instruction row for {qid!r} has no 'instruction'")
            if qid in instructions:
                raise loc.error(f"duplicate instruction for query {qid!r}")
            instructions[qid] = text

    rows: dict[str, dict[str, tuple[str, str, dict[str, str]]]] = {}
    for loc, rec in _need(tables, "queries", where):
        sid = get_id(loc, rec, "_id", "id")
        base, which = split_suffix(sid)
        text = get_str(loc, rec, "text")
        if text is None:
            raise loc.error(f"query {sid!r}: missing field 'text'")
        instruction = instructions.get(sid, get_str(loc, rec, "instruction"))
        if instruction is None:
            raise loc.error(f"query {sid!r} has no instruction (no 'instruction' config row or column)")
        slot = rows.setdefault(base, {})
        if which in slot:
            raise loc.error(f"duplicate query id {sid!r}")
        extra = {
            k: extra_value(v)
            for k, v in rec.items()
            if k not in {"_id", "id", "text", "instruction"} and v is not None
        }
        slot[which] = (text, instruction, extra)

    queries: dict[str, Query] = {}
    for base, slot in rows.items():
        if "og" not in slot:
            raise DataError(f"query {base + CHANGED!r} has no '{base + OG}' counterpart", where)
        text, og_instr, extra = slot["og"]
        changed = slot.get("changed")
        if changed is not None and changed[0] != text:
            logger.warning("%s: query %s has different texts under -og and -changed; using -og", name, base)
        queries[base] = Query(
            query_id=base,
            text=text,
            instruction_og=og_instr,
            instruction_changed=None if changed is None else changed[1],
            extra=extra,
        )

    qrels_src = tables("default")
    if qrels_src is None:
        qrels_src = _need(tables, "qrels", where)
    qrels_og, qrels_changed = _split_qrels(qrels_from_records(qrels_src), where)

    pools: dict[str, list[str]] | None = None
    top = tables("top_ranked")
    if top is not None:
        pools = {}
        changed_pools: dict[str, list[str]] = {}
        for sid, pids in pools_from_records(top).items():
            base, which = split_suffix(sid)
            (pools if which == "og" else changed_pools)[base] = pids
        for base, pids in changed_pools.items():
            if base not in pools:
                pools[base] = pids
            elif set(pids) != set(pools[base]):
                logger.warning("%s: pools of %s-og and %s-changed differ; using -og's", name, base, base)

    bench = Benchmark(
        name=name,
        queries=queries,
        corpus=corpus,
        qrels_og=qrels_og,
        qrels_changed=qrels_changed if any(q.instruction_changed is not None for q in queries.values()) else None,
        pools=pools,
        main_measure=main_measure,
        metadata={"source": where, "layout": "mteb-v2"},
    )
    diff = tables("qrel_diff")
    if diff is not None:
        _check_qrel_diff(bench, pools_from_records(diff))
    return bench


def _check_qrel_diff(bench: Benchmark, diff: dict[str, list[str]]) -> None:
    """mteb ships the changed documents precomputed; say so when ours disagree."""
    ours = bench.changed_docs()
    for sid, docs in diff.items():
        base, _ = split_suffix(sid)
        if set(docs) != set(ours.get(base, [])):
            logger.warning(
                "%s: qrel_diff for %s lists %d documents; qrels_og vs qrels_changed give %d",
                bench.name, base, len(docs), len(ours.get(base, [])),
            )


# -- entry points -----------------------------------------------------------------------------
def read_hub_tables(
    tables: TableSource, configs: set[str], name: str, where: str, main_measure: str = "MAP@1000"
) -> Benchmark:
    layout = layout_of(configs)
    if layout == "followir":
        return from_followir_tables(tables, name, where, main_measure)
    if layout == "mteb":
        return from_mteb_tables(tables, name, where, main_measure)
    raise DataError(
        f"configs {sorted(configs)} match neither the FollowIR hub layout "
        f"({', '.join(FOLLOWIR_CONFIGS)}) nor the mteb v2 layout ({', '.join(MTEB_CONFIGS)})",
        where,
    )


def read_hub_dir(
    directory: str | Path, name: str | None = None, split: str = "test", main_measure: str = "MAP@1000"
) -> Benchmark:
    """A local copy of either hub layout (configs as files or folders of files)."""
    d = Path(directory)
    tables, configs = local_tables(d, split)
    return read_hub_tables(tables, configs, name or d.name, str(d), main_measure)


def load_hub(
    repo: str,
    split: str = "test",
    revision: str | None = None,
    name: str | None = None,
    main_measure: str = "MAP@1000",
) -> Benchmark:
    """Download (or reuse the ``datasets`` cache of) ``repo`` and convert it."""
    tables, configs = hub_tables(repo, split, revision)
    return read_hub_tables(tables, configs, name or repo.split("/")[-1], repo, main_measure)
