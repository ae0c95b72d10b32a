"""TREC run files: where the evaluation writes them and how.

A run file is ``qid Q0 docid rank score tag``.  Ranks are written under trec_eval's rule
(score descending, ties by doc id descending) so that the rank column, trec_eval and our
own metrics all agree.  Scores are written with ``repr`` so reading a file back gives the
exact floats, and therefore the exact ranking, that were measured.

Reading and writing the format is `followir.data.trec`'s job; this module names the files.
"""

from __future__ import annotations

import re
from pathlib import Path

from followir.data.types import Run
from followir.errors import DataError

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


def model_slug(model: str) -> str:
    """A file-name-safe form of a model spec: ``dense:BAAI/bge?x=1`` -> ``dense_BAAI_bge_x=1``."""
    slug = _UNSAFE.sub("_", model.strip()).strip("._")
    if not slug:
        raise ValueError(f"cannot make a file name from model spec {model!r}")
    return slug


def output_paths(out_dir: str | Path, benchmark: str, model: str) -> dict[str, Path]:
    """``<out>/<benchmark>/<slug>.{og.trec,changed.trec,json}``."""
    base = Path(out_dir) / model_slug(benchmark)
    slug = model_slug(model)
    return {
        "og": base / f"{slug}.og.trec",
        "changed": base / f"{slug}.changed.trec",
        "json": base / f"{slug}.json",
    }


def write_run(run: Run, path: str | Path, tag: str = "followir") -> Path:
    """Write ``run`` in TREC format (queries sorted by id, docs by trec_eval rank).

    The format itself is `followir.data.trec.write_run`'s; here the file is written under a
    temporary name and renamed, so an interrupted write never leaves a truncated run that
    looks complete.
    """
    from followir.data import trec

    path = Path(path)
    tag = _UNSAFE.sub("_", tag) or "followir"
    for qid, docs in run.items():
        for did in docs:
            if not qid or not did or any(c.isspace() for c in qid + did):
                raise DataError(f"an empty id or one with whitespace cannot go in a TREC run: {qid!r} {did!r}")
    tmp = path.with_suffix(path.suffix + ".tmp")
    trec.write_run(tmp, {q: run[q] for q in sorted(run)}, tag=tag)
    tmp.replace(path)
    return path


def read_run(path: str | Path) -> Run:
    """Read a TREC run (`followir.data.trec.read_run`); errors name file and line."""
    from followir.data import trec

    return trec.read_run(path)
