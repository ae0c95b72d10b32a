"""Metrics: trec measures through ir_measures, p-MRR and Robustness@k, statistics."""

from followir.metrics.base import EvalInput, Measure, parse_measure
from followir.metrics.pmrr import pmrr, pmrr_per_query
from followir.metrics.ranking import ranked_ids, ranks

__all__ = ["EvalInput", "Measure", "parse_measure", "pmrr", "pmrr_per_query", "ranked_ids", "ranks"]
