"""mteb interop: write followir results as mteb result files and read mteb's back.

An mteb result file (as in the ``embeddings-benchmark/results`` repository) is::

    {"dataset_revision": …, "task_name": "Robust04InstructionRetrieval", "mteb_version": …,
     "evaluation_time": …,
     "scores": {"test": [{"hf_subset": "default", "languages": ["eng-Latn"],
                          "main_score": <p-MRR>, "p-MRR": <p-MRR>,
                          "og": {"map_at_1000": …, "ndcg_at_5": …},       # mteb >= 2
                          "changed": {…}}]}}

mteb 1.x wrote the two runs' scores under ``"individual": {"original": …, "changed": …}``
instead of ``"og"``/``"changed"``; both are read.  Every value is a fraction, p-MRR
included (the FollowIR tables multiply by 100), and ``main_score`` of the instruction tasks
is p-MRR.  We write the mteb 2 keys; per-query values do not exist in mteb files, so rows
read back carry none (and no CIs).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from followir.errors import DataError
from followir.evaluation.results import EvalResult, MeasureResult

# followir benchmark name -> mteb task name (and back), main measure of the FollowIR table
TASKS = {
    "robust04": ("Robust04InstructionRetrieval", "MAP@1000"),
    "core17": ("Core17InstructionRetrieval", "MAP@1000"),
    "news21": ("News21InstructionRetrieval", "nDCG@5"),
}
_BY_TASK = {task: (bench, main) for bench, (task, main) in TASKS.items()}

_MEASURE = re.compile(r"^(?P<name>[A-Za-z]+)@(?P<k>\d+)$")
_TO_MTEB = {"map": "map_at_", "ndcg": "ndcg_at_", "recall": "recall_at_", "p": "precision_at_", "mrr": "mrr_at_"}
_FROM_MTEB = {"map_at_": "MAP@", "ndcg_at_": "nDCG@", "recall_at_": "Recall@", "precision_at_": "P@", "mrr_at_": "MRR@"}


def mteb_key(measure: str) -> str | None:
    """``MAP@1000`` -> ``map_at_1000`` (None for measures mteb has no key for)."""
    m = _MEASURE.match(measure)
    if not m or m.group("name").lower() not in _TO_MTEB:
        return None
    return _TO_MTEB[m.group("name").lower()] + m.group("k")


def followir_measure(key: str) -> str | None:
    """``map_at_1000`` -> ``MAP@1000``."""
    for prefix, name in _FROM_MTEB.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            return name + key[len(prefix) :]
    return None


def task_name(benchmark: str) -> str:
    """The mteb task of a followir benchmark name (e.g. ``robust04`` or a path ending so)."""
    stem = Path(benchmark).name.lower()
    for bench, (task, _) in TASKS.items():
        if stem.startswith(bench):
            return task
    return benchmark


def to_mteb(result: EvalResult, mteb_version: str = "followir") -> dict[str, object]:
    """One EvalResult as an mteb result dict (``og`` measures of the original run; the
    changed run's ``changed:<measure>`` entries, if any, under ``changed``)."""
    og: dict[str, float] = {}
    changed: dict[str, float] = {}
    for name, m in result.measures.items():
        target = og
        if name.startswith("changed:"):
            name, target = name.split(":", 1)[1], changed
        key = mteb_key(name)
        if key is not None:
            target[key] = m.value
    entry: dict[str, object] = {"hf_subset": "default", "languages": ["eng-Latn"], "og": og}
    if changed:
        entry["changed"] = changed
    pmrr = result.measures.get("p-MRR")
    if pmrr is not None:
        entry["p-MRR"] = pmrr.value
        entry["main_score"] = pmrr.value
    else:
        main = result.measures.get(result.main_measure)
        entry["main_score"] = None if main is None else main.value
    return {
        "dataset_revision": str(result.settings.get("revision", "")),
        "task_name": task_name(result.benchmark),
        "mteb_version": mteb_version,
        "evaluation_time": sum(result.timings.values()) if result.timings else None,
        "scores": {"test": [entry]},
    }


def write_mteb(result: EvalResult, out_dir: str | Path) -> Path:
    """``<out>/<model>/<Task>.json`` as in mteb's results folders (model ``/`` -> ``__``)."""
    model_dir = Path(out_dir) / result.model.replace("/", "__").replace(":", "_")
    model_dir.mkdir(parents=True, exist_ok=True)
    data = to_mteb(result)
    path = model_dir / f"{data['task_name']}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def is_mteb_file(data: object) -> bool:
    return isinstance(data, dict) and "task_name" in data and "scores" in data


def from_mteb(data: dict[str, object], model: str, source: str = "") -> EvalResult:
    """An mteb result dict -> an EvalResult row (values only, no per-query data)."""
    task = str(data.get("task_name", ""))
    bench, main = _BY_TASK.get(task, (task, "nDCG@10"))
    try:
        entries = data["scores"]["test"]  # type: ignore[index]
        entry = next(e for e in entries if e.get("hf_subset", "default") == "default")
    except (KeyError, TypeError, AttributeError, StopIteration):  # AttributeError: a non-object entry
        raise DataError("mteb result without a 'test' split / 'default' subset", source) from None
    og = entry.get("og") or entry.get("individual", {}).get("original") or {}
    changed = entry.get("changed") or entry.get("individual", {}).get("changed") or {}
    if not og and task not in _BY_TASK:  # an ordinary retrieval task: scores sit on the entry
        og = entry
    measures: dict[str, MeasureResult] = {}
    for key, value in og.items():
        name = followir_measure(key)
        if name is not None and isinstance(value, int | float):
            measures[name] = MeasureResult(value=float(value), per_query={})
    for key, value in changed.items():
        name = followir_measure(key)
        if name is not None and isinstance(value, int | float):
            measures[f"changed:{name}"] = MeasureResult(value=float(value), per_query={})
    pmrr = _number(entry, "p-MRR", source)
    if pmrr is not None:
        measures["p-MRR"] = MeasureResult(value=pmrr, per_query={})
    main_score = _number(entry, "main_score", source)
    if main not in measures and main_score is not None and task not in _BY_TASK:
        measures[main] = MeasureResult(value=main_score, per_query={})
    return EvalResult(
        model=model,
        benchmark=bench,
        measures=measures,
        main_measure=main,
        settings={"source": "mteb", "mteb_version": data.get("mteb_version"), "file": source},
        versions={"mteb": str(data.get("mteb_version", ""))},
    )


def _number(entry: dict[str, object], key: str, source: str) -> float | None:
    """``entry[key]`` as a float; None when absent or null (`to_mteb` writes a null
    ``main_score`` for a result without its main measure)."""
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float):
        raise DataError(f"{key!r} must be a number, not {value!r}", source)
    return float(value)


def model_from_path(path: Path) -> str:
    """mteb folders: ``<model>/<revision>/<Task>.json`` or ``<model>/<Task>.json``."""
    parent = path.parent
    if re.fullmatch(r"[0-9a-f]{40}|no_revision_available", parent.name):
        parent = parent.parent
    return parent.name.replace("__", "/")


def read_mteb(path: str | Path, model: str | None = None) -> EvalResult:
    """Read one mteb result file; the model name comes from its folder unless given."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON: {exc}", path, exc.lineno) from None
    if not is_mteb_file(data):
        raise DataError("not an mteb result file (no 'task_name'/'scores')", path)
    return from_mteb(data, model or model_from_path(path), str(path))
