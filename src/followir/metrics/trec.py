"""Standard trec measures, computed by ir_measures (pytrec_eval), never by hand."""

from __future__ import annotations

from followir.metrics.base import EvalInput, Measure, register


class TrecMeasure(Measure):
    """Delegates to ir_measures; the original-instruction run meets qrels_og only."""

    ir_name: str = ""

    def _ir_measure(self):
        import ir_measures

        text = f"{self.ir_name}@{self.cutoff}" if self.cutoff is not None else self.ir_name
        return ir_measures.parse_measure(text)

    def per_query(self, inp: EvalInput) -> dict[str, float]:
        return per_query_trec(self, inp.run_og, inp.qrels_og)


def per_query_trec(measure: TrecMeasure, run, qrels) -> dict[str, float]:
    """Per-query values of a trec measure for one run against one set of qrels.

    Queries judged in ``qrels`` but absent from the run score 0, as trec_eval -c does,
    so a model that returns nothing for a query is not rewarded by omission.
    """
    import ir_measures

    m = measure._ir_measure()
    judged = {q: d for q, d in qrels.items() if any(r > 0 for r in d.values())}
    clean_run = {q: {d: float(s) for d, s in docs.items()} for q, docs in run.items() if q in judged}
    out = {q: 0.0 for q in judged}
    for metric in ir_measures.iter_calc([m], judged, clean_run):
        out[metric.query_id] = float(metric.value)
    return out


@register
class MAP(TrecMeasure):
    name = "MAP"
    ir_name = "AP"


@register
class NDCG(TrecMeasure):
    name = "nDCG"
    ir_name = "nDCG"


@register
class MRR(TrecMeasure):
    name = "MRR"
    ir_name = "RR"


@register
class Recall(TrecMeasure):
    name = "Recall"
    ir_name = "R"


@register
class Precision(TrecMeasure):
    name = "P"
    ir_name = "P"
