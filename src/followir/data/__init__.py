"""Benchmarks: the data model and the readers/writers for every layout followir speaks."""

from followir.data.registry import BenchmarkInfo, list_benchmarks, load_benchmark
from followir.data.types import Benchmark, Document, Qrels, Query, Run

__all__ = [
    "Benchmark",
    "BenchmarkInfo",
    "Document",
    "Qrels",
    "Query",
    "Run",
    "list_benchmarks",
    "load_benchmark",
]
