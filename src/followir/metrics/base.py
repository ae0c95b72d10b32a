"""Measures as registered value objects, in the manner of ir_measures.

A measure string on the CLI (``nDCG@5``, ``p-MRR``, ``Robustness@10``) and the object in
Python are the same thing: `parse_measure(str(m)) == m`.  Standard trec measures are
delegated to ir_measures (pytrec_eval); only what no library has is computed here.
Values are fractions; reports multiply by 100 as the FollowIR tables do.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from followir.data.types import Qrels, Run
from followir.errors import SpecError


@dataclass
class EvalInput:
    """Everything a measure may look at; metric code never does I/O."""

    run_og: Run
    qrels_og: Qrels
    run_changed: Run | None = None
    qrels_changed: Qrels | None = None
    changed_docs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    pool_sizes: Mapping[str, int] | None = None
    groups: Mapping[str, str] | None = None  # variant query id -> base query id


class Measure:
    """Base class: a name, optional @k cutoff, and per-query values."""

    name: str = ""
    needs_changes: bool = False  # True for instruction measures (p-MRR)

    def __init__(self, cutoff: int | None = None):
        self.cutoff = cutoff

    def __str__(self) -> str:
        return f"{self.name}@{self.cutoff}" if self.cutoff is not None else self.name

    def __repr__(self) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Measure) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def per_query(self, inp: EvalInput) -> dict[str, float]:
        raise NotImplementedError

    def aggregate(self, per_query: Mapping[str, float]) -> float:
        """Macro average over queries (NaN when there is none)."""
        vals = list(per_query.values())
        return sum(vals) / len(vals) if vals else float("nan")


_MEASURES: dict[str, type[Measure]] = {}


def register(cls: type[Measure]) -> type[Measure]:
    """Class decorator: make a measure parseable by its name."""
    key = cls.name.lower()
    if key in _MEASURES:
        raise ValueError(f"measure {cls.name!r} registered twice")
    _MEASURES[key] = cls
    return cls


def registered() -> list[str]:
    return sorted(c.name for c in _MEASURES.values())


_SPEC = re.compile(r"^(?P<name>[A-Za-z_][\w\-]*)(?:@(?P<k>\d+))?$")


def parse_measure(spec: str | Measure) -> Measure:
    """``"nDCG@5"`` -> a Measure. Unknown names list the valid ones."""
    if isinstance(spec, Measure):
        return spec
    import followir.metrics.instruction  # noqa: F401  (registers p-MRR, Robustness)
    import followir.metrics.trec  # noqa: F401  (registers the trec measures)

    m = _SPEC.match(spec.strip())
    if not m:
        raise SpecError(f"cannot parse measure {spec!r}; expected NAME or NAME@K, e.g. nDCG@5")
    name, k = m.group("name"), m.group("k")
    cls = _MEASURES.get(name.lower())
    if cls is None:
        close = difflib.get_close_matches(name, registered(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise SpecError(f"unknown measure {name!r}.{hint} Valid: {', '.join(registered())}")
    return cls(int(k)) if k is not None else cls()
