"""BEIR and BEIR+ directories: one set of qrels, optional instructions and pools.

```
<dir>/corpus.jsonl          {"_id", "title", "text"}
<dir>/queries.jsonl         {"_id", "text", optional "instruction" | "instruction_og"/"instruction_changed"}
<dir>/qrels/<split>.tsv     query-id  corpus-id  score
<dir>/top_ranked.jsonl      {"qid", "pids"}   (optional: BEIR+ reranking pools)
```
There is only one set of judgments, so the result has no ``qrels_changed``: standard
measures only, no p-MRR.  As BEIR's own loader does, queries without judgments in the
chosen split are dropped (with a log line) so every query that is scored can be evaluated.
"""

from __future__ import annotations

import logging
from pathlib import Path

from followir.data.jsonl import (
    find_qrels,
    find_table,
    iter_table,
    pools_from_records,
    qrels_from_records,
    read_corpus,
)
from followir.data.plain import read_queries
from followir.data.types import Benchmark
from followir.errors import DataError

logger = logging.getLogger(__name__)


def is_beir(directory: str | Path) -> bool:
    d = Path(directory)
    return (d / "qrels").is_dir() and find_table(d, "corpus") is not None


def read_beir(
    directory: str | Path,
    split: str = "test",
    name: str | None = None,
    main_measure: str = "nDCG@10",
    keep_unjudged: bool = False,
) -> Benchmark:
    """Load a BEIR(+) directory; ``split`` picks ``qrels/<split>.tsv``."""
    d = Path(directory)
    if not d.is_dir():
        raise DataError("not a directory", d)
    corpus_path = find_table(d, "corpus")
    queries_path = find_table(d, "queries")
    if corpus_path is None or queries_path is None:
        raise DataError("a BEIR directory needs corpus.jsonl and queries.jsonl", d)
    qrels_path = find_qrels(d / "qrels", split)
    if qrels_path is None:
        have = sorted(p.stem for p in (d / "qrels").glob("*") if p.suffix in (".tsv", ".parquet"))
        raise DataError(f"no qrels/{split}.tsv; splits present: {have or 'none'}", d)
    corpus = read_corpus(corpus_path)
    queries = read_queries(queries_path)
    qrels = qrels_from_records(iter_table(qrels_path))
    pools_path = find_table(d, "top_ranked")
    pools = pools_from_records(iter_table(pools_path)) if pools_path else None
    if not keep_unjudged:
        unjudged = [q for q in queries if q not in qrels]
        if unjudged:
            logger.info("%s: dropping %d queries without %s judgments", d.name, len(unjudged), split)
            queries = {q: v for q, v in queries.items() if q in qrels}
            if pools is not None:
                pools = {q: p for q, p in pools.items() if q in queries}
    return Benchmark(
        name=name or d.name,
        queries=queries,
        corpus=corpus,
        qrels_og=qrels,
        qrels_changed=None,
        pools=pools,
        main_measure=main_measure,
        metadata={"source": str(d), "layout": "beir", "split": split},
    )
