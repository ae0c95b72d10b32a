"""Evaluation results as open JSON: one file per (model, benchmark).

The record keeps per-query values so that reports, confidence intervals and paired tests
can be recomputed later without re-scoring anything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA = "followir.result/1"


def strict_json(obj: object) -> object:
    """``obj`` with every non-finite float replaced by ``None``: ``json.dumps`` would write
    ``NaN``, which is not JSON and which strict readers (jq, JavaScript, Go) reject.  An
    undefined value (for example p-MRR of a query without changed documents) is ``null``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [strict_json(v) for v in obj]
    return obj


def _nan(value: object) -> object:
    return math.nan if value is None else value


@dataclass
class MeasureResult:
    """One measure: the macro value, its bootstrap CI and the per-query values (fractions)."""

    value: float
    per_query: dict[str, float]
    ci_low: float | None = None
    ci_high: float | None = None

    @classmethod
    def of(
        cls, per_query: Mapping[str, float], n_boot: int, seed: int, value: float | None = None
    ) -> MeasureResult:
        """``value`` (default: the mean over queries) with a bootstrap CI over the queries;
        no CI when ``n_boot <= 0``, and NaN for no queries.  One constructor for every
        path that measures (evaluate, retrieve), so their results cannot drift apart."""
        from followir.metrics.stats import bootstrap_ci

        per_query = dict(sorted(per_query.items()))
        if value is None:
            value = sum(per_query.values()) / len(per_query) if per_query else float("nan")
        if n_boot <= 0:
            return cls(value=value, per_query=per_query)
        ci = bootstrap_ci(per_query, n_boot=n_boot, seed=seed)
        return cls(value=value, per_query=per_query, ci_low=ci.low, ci_high=ci.high)


@dataclass
class EvalResult:
    """Everything about one model evaluated on one benchmark."""

    model: str
    benchmark: str
    measures: dict[str, MeasureResult]
    main_measure: str
    fingerprint: str = ""
    settings: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    variant: str = "full"  # ablation variant: none / keywords / short / full
    counts: dict[str, int] = field(default_factory=dict)  # pairs_scored, pairs_cached, ...

    def to_dict(self) -> dict[str, object]:
        return {"schema": SCHEMA, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> EvalResult:
        data = dict(data)
        data.pop("schema", None)
        measures = {}
        for name, raw in dict(data.pop("measures")).items():  # type: ignore[arg-type]
            raw = dict(raw)
            raw["value"] = _nan(raw.get("value"))  # null on disk = undefined = NaN in memory
            raw["per_query"] = {q: _nan(v) for q, v in dict(raw.get("per_query") or {}).items()}
            measures[name] = MeasureResult(**raw)
        return cls(measures=measures, **data)  # type: ignore[arg-type]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(strict_json(self.to_dict()), indent=1, sort_keys=False, allow_nan=False))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> EvalResult:
        from followir.errors import DataError

        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc}", path, exc.lineno) from None
        if data.get("schema") != SCHEMA:
            raise DataError(f"not a followir result (schema {data.get('schema')!r})", path)
        return cls.from_dict(data)
