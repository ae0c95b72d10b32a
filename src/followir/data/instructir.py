"""InstructIR (Oh et al., 2024): many instructions per base query, one target per variant.

Each (instruction, query) variant is its own `Query`; variants of one user query share a
*base id*, and Robustness@k is the minimum nDCG@k over a base id's variants.  Layout:

```
<dir>/corpus.jsonl        {"_id", "title", "text"}
<dir>/queries.jsonl       one variant per line, either
                            followir form:   {"_id", "text", "instruction", "base_id"}
                            InstructIR form: {"_id": "<base>_<n>", "text": "<instruction> [SEP] <query>",
                                              "metadata": {"origin_query": "<query>"}}
<dir>/qrels/test.tsv      query-id corpus-id score   (InstructIR writes the header "qid pid score")
```
In the InstructIR form (as released in kaistAI/InstructIR), the instruction and query are
split at the ``[SEP]`` marker and the base id is the ``_id`` before its last ``_``.  The
two stay separate fields here; models join them (InstructIR's own input is
``instruction [SEP] query``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

from followir.data.jsonl import (
    Loc,
    find_qrels,
    find_table,
    get_id,
    get_str,
    iter_table,
    qrels_from_records,
    read_corpus,
    require_str,
)
from followir.data.plain import queries_from_records
from followir.data.types import Benchmark, Query
from followir.errors import DataError

logger = logging.getLogger(__name__)

BASE_FIELD = "base_id"
SEP = "[SEP]"


def variant_from_record(loc: Loc, rec: Mapping[str, object]) -> Query:
    qid = get_id(loc, rec, "_id", "id")
    text = require_str(loc, rec, "text")
    instruction = get_str(loc, rec, "instruction")
    if instruction is None:
        if SEP not in text:
            raise loc.error(
                f"query {qid!r}: no 'instruction' field and no '{SEP}' in its text to split at"
            )
        instruction, text = (part.strip() for part in text.split(SEP, 1))
    if rec.get(BASE_FIELD) is not None:
        base = get_id(loc, rec, BASE_FIELD)
    elif "_" in qid:
        base = qid.rsplit("_", 1)[0]
    else:
        raise loc.error(
            f"query {qid!r}: no {BASE_FIELD!r} field and the id has no '<base>_<n>' form"
        )
    return Query(query_id=qid, text=text, instruction_og=instruction, extra={BASE_FIELD: base})


def read_instructir(
    directory: str | Path, split: str = "test", name: str | None = None
) -> Benchmark:
    """Load an InstructIR directory; see the module docstring for both accepted forms."""
    d = Path(directory)
    corpus_path, queries_path = find_table(d, "corpus"), find_table(d, "queries")
    if corpus_path is None or queries_path is None:
        raise DataError("an InstructIR directory needs corpus.jsonl and queries.jsonl", d)
    qrels_path = find_qrels(d / "qrels", split)
    if qrels_path is None:
        raise DataError(f"missing qrels/{split}.tsv", d)
    return Benchmark(
        name=name or d.name,
        queries=queries_from_records(iter_table(queries_path), make=variant_from_record),
        corpus=read_corpus(corpus_path),
        qrels_og=qrels_from_records(iter_table(qrels_path)),
        main_measure="nDCG@10",
        metadata={"source": str(d), "layout": "instructir"},
    )


def query_groups(benchmark: Benchmark) -> dict[str, str]:
    """``variant id -> base id`` for Robustness@k (``EvalInput.groups``).

    A query without a base id is its own group, so the measure degrades to nDCG@k.
    """
    return {qid: str(q.extra.get(BASE_FIELD, qid)) for qid, q in benchmark.queries.items()}


def is_instructir(directory: str | Path) -> bool:
    """A BEIR-shaped directory whose first query carries a base id or a [SEP] text."""
    d = Path(directory)
    qp = find_table(d, "queries")
    if qp is None or not (d / "qrels").is_dir():
        return False
    with closing(iter(iter_table(qp))) as records:  # only the first record: close the file now
        first = next(records, None)
    if first is None:
        return False
    rec = first[1]
    text = rec.get("text")
    return BASE_FIELD in rec or (isinstance(text, str) and SEP in text)
