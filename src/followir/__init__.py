"""followir: evaluate and teach instruction-following retrieval.

The top-level import stays light (no torch, transformers or datasets): heavy backends
are imported only when a model or reader that needs them is used.
"""

from __future__ import annotations

from followir.data.types import Benchmark, Query

__all__ = ["Benchmark", "Query", "__version__", "load_benchmark"]
__version__ = "0.1.0"


def load_benchmark(spec: str) -> Benchmark:
    """Load a benchmark from a spec (bundled name, local directory, or hub id)."""
    from followir.data.registry import load_benchmark as _load

    return _load(spec)
