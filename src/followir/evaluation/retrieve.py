"""The full-collection protocol (FollowIR App. F / Table 4): search the whole corpus.

Reranking a fixed pool isolates *how* a model uses an instruction; full retrieval asks
whether it still helps when the model also decides *what* enters the ranking.  Each query
is searched three times — query only (``none``), with the original instruction (``og``)
and with the altered one (``changed``) — and we report:

* the query-only score and the original-instruction score (main measure, ``qrels_og``) and
  their difference Δ = og − none (the paper's Table 4);
* the altered-instruction score (the ``changed`` run against ``qrels_changed``, never mixed);
* p-MRR over the changed documents that the two runs *actually retrieved*.

Why restrict p-MRR: a changed document that neither run retrieved carries no information
about how the ranking moved (it would score 0 under the "one past the end" rule and pull
every model towards 0 by an amount that depends on recall, not on instruction following).
So a changed document absent from *both* runs is excluded; one retrieved by only one run
ranks one past the end of the longer run in the other, as in `followir.metrics.pmrr`.  As
the paper notes, each model is then judged on a different set of documents; the report
says how many were used.

Optionally the retrieved top-k (union of the og and changed runs, so both instructions
rerank the same documents) goes through the ordinary reranking path with any scorer, which
brings the score cache and resumption with it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from followir.data.types import Benchmark, Query, Run
from followir.errors import DataError, SpecError
from followir.evaluation.results import EvalResult, MeasureResult
from followir.metrics.base import EvalInput, parse_measure
from followir.metrics.pmrr import pmrr_per_query
from followir.models.base import Retriever

log = logging.getLogger(__name__)

VARIANTS = ("none", "og", "changed")


def replace_instructions(
    benchmark: Benchmark,
    og: Mapping[str, str],
    changed: Mapping[str, str] | None = None,
    name: str | None = None,
    pools: dict[str, list[str]] | None = None,
) -> Benchmark:
    """A copy of ``benchmark`` whose queries carry other instruction texts.

    Without ``changed`` the copy has no altered instructions and no ``qrels_changed`` (so
    only original-instruction measures apply).  Corpus and qrels are shared, not copied.
    """
    queries: dict[str, Query] = {}
    for qid, q in benchmark.queries.items():
        if qid not in og:
            raise DataError(f"{benchmark.name}: no replacement instruction for query {qid!r}")
        new_changed = None if changed is None else changed.get(qid)
        queries[qid] = replace(q, instruction_og=og[qid], instruction_changed=new_changed)
    return Benchmark(
        name=name or benchmark.name,
        queries=queries,
        corpus=benchmark.corpus,
        qrels_og=benchmark.qrels_og,
        qrels_changed=benchmark.qrels_changed if changed is not None else None,
        pools=pools if pools is not None else benchmark.pools,
        main_measure=benchmark.main_measure,
        metadata=dict(benchmark.metadata),
    )


def index_corpus(benchmark: Benchmark, retriever: Retriever) -> float:
    """Index every document (title + text); returns the seconds it took."""
    t0 = time.perf_counter()
    ids = list(benchmark.corpus)
    retriever.index(ids, [benchmark.corpus[d].full_text for d in ids])
    return time.perf_counter() - t0


def retrieve_runs(
    benchmark: Benchmark,
    retriever: Retriever,
    k: int = 1000,
    variants: Sequence[str] = VARIANTS,
    progress: bool = False,
) -> dict[str, Run]:
    """Top-``k`` runs of an *indexed* retriever, one per instruction variant.

    ``none`` searches the query alone; ``changed`` only the queries with an altered
    instruction (and only when the benchmark has ``qrels_changed``).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, not {k}")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SpecError(f"unknown retrieval variants {unknown}; valid: {', '.join(VARIANTS)}")
    runs: dict[str, Run] = {}
    for variant in variants:
        if variant == "changed" and not benchmark.has_changes:
            continue
        items = list(benchmark.queries.items())
        if progress:
            from tqdm.auto import tqdm

            items = tqdm(items, desc=f"retrieve ({variant})", unit="query")
        run: Run = {}
        for qid, query in items:
            if variant == "none":
                instruction = ""
            elif variant == "og":
                instruction = query.instruction_og
            elif query.instruction_changed is None:
                continue
            else:
                instruction = query.instruction_changed
            hits = retriever.retrieve(query.text, instruction, k)
            run[qid] = {str(d): float(s) for d, s in hits.items()}
        runs[variant] = run
    return runs


def retrieved_changed_docs(
    changed_docs: Mapping[str, Sequence[str]], run_og: Run, run_changed: Run
) -> dict[str, list[str]]:
    """Changed documents that at least one of the two runs retrieved (see module doc)."""
    out: dict[str, list[str]] = {}
    for qid, docs in changed_docs.items():
        seen = set(run_og.get(qid, {})) | set(run_changed.get(qid, {}))
        kept = [d for d in docs if d in seen]
        if kept:
            out[qid] = kept
    return out


@dataclass
class RetrievalReport:
    """Full-retrieval scores of one model on one benchmark (values are fractions)."""

    model: str
    benchmark: str
    main_measure: str
    k: int
    scores: dict[str, MeasureResult]  # variant -> main measure (changed: vs qrels_changed)
    pmrr: MeasureResult | None = None
    n_changed: int = 0  # changed (query, doc) pairs in the benchmark
    n_changed_retrieved: int = 0  # ... of which at least one run retrieved
    reranker: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def delta(self, a: str, b: str) -> float:
        """score[a] - score[b] (NaN when either is missing)."""
        if a not in self.scores or b not in self.scores:
            return float("nan")
        return self.scores[a].value - self.scores[b].value

    @property
    def delta_instruction(self) -> float:
        """og − none: what the instruction adds (FollowIR Table 4)."""
        return self.delta("og", "none")

    def to_eval_result(self) -> EvalResult:
        """As an `EvalResult`: the og score and p-MRR under their own names, the other
        variants as ``none:MEASURE`` / ``changed:MEASURE``."""
        m = self.main_measure
        measures: dict[str, MeasureResult] = {}
        if "og" in self.scores:
            measures[m] = self.scores["og"]
        for variant in ("none", "changed"):
            if variant in self.scores:
                measures[f"{variant}:{m}"] = self.scores[variant]
        if self.pmrr is not None:
            measures["p-MRR"] = self.pmrr
        model = self.model if self.reranker is None else f"{self.model}>>{self.reranker}"
        return EvalResult(
            model=model,
            benchmark=self.benchmark,
            measures=measures,
            main_measure=m,
            settings={
                "protocol": "full-retrieval",
                "k": self.k,
                "retriever": self.model,
                "reranker": self.reranker,
                "delta_instruction": self.delta_instruction,
                "delta_changed": self.delta("changed", "og"),
                "n_changed": self.n_changed,
                "n_changed_retrieved": self.n_changed_retrieved,
                "pmrr_docs": "changed docs retrieved by at least one of the og/changed runs",
            },
            timings=dict(self.timings),
        )

    def summary(self) -> str:
        """One human line with the figures the paper reports (x100)."""

        def pct(x: float) -> str:
            return "n/a" if math.isnan(x) else f"{100 * x:.1f}"

        parts = [f"{self.model}" + (f" >> {self.reranker}" if self.reranker else "")]
        parts.append(f"{self.benchmark} {self.main_measure} (top {self.k}):")
        for v in VARIANTS:
            if v in self.scores:
                parts.append(f"{v}={pct(self.scores[v].value)}")
        if "none" in self.scores and "og" in self.scores:
            parts.append(f"Δ(og-none)={pct(self.delta_instruction)}")
        if self.pmrr is not None:
            parts.append(
                f"p-MRR={pct(self.pmrr.value)} "
                f"({self.n_changed_retrieved}/{self.n_changed} changed docs retrieved)"
            )
        return " ".join(parts)


def evaluate_runs_full(
    benchmark: Benchmark,
    runs: Mapping[str, Run],
    model: str,
    k: int,
    main_measure: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    reranker: str | None = None,
) -> RetrievalReport:
    """Score full-retrieval runs: main measure per variant and the restricted p-MRR."""
    measure = parse_measure(main_measure or benchmark.main_measure)
    scores: dict[str, MeasureResult] = {}
    for variant, run in runs.items():
        qrels = benchmark.qrels_og
        if variant == "changed":
            if benchmark.qrels_changed is None:
                continue
            qrels = benchmark.qrels_changed
        per_query = measure.per_query(EvalInput(run_og=run, qrels_og=qrels))
        scores[variant] = MeasureResult.of(per_query, n_boot, seed)
    report = RetrievalReport(
        model=model,
        benchmark=benchmark.name,
        main_measure=str(measure),
        k=k,
        scores=scores,
        reranker=reranker,
    )
    if benchmark.has_changes and "og" in runs and "changed" in runs:
        changed = benchmark.changed_docs()
        kept = retrieved_changed_docs(changed, runs["og"], runs["changed"])
        report.n_changed = sum(len(v) for v in changed.values())
        report.n_changed_retrieved = sum(len(v) for v in kept.values())
        per_query = pmrr_per_query(runs["og"], runs["changed"], kept)
        report.pmrr = MeasureResult.of(per_query, n_boot, seed)
    return report


def union_pools(runs: Mapping[str, Run], top_k: int) -> dict[str, list[str]]:
    """Per query, the union of every run's top ``top_k`` (best og documents first)."""
    from followir.metrics.ranking import ranked_ids

    pools: dict[str, list[str]] = {}
    for variant in ("og", "changed", "none"):
        for qid, docs in runs.get(variant, {}).items():
            pool = pools.setdefault(qid, [])
            seen = set(pool)
            pool.extend(d for d in ranked_ids(docs)[:top_k] if d not in seen)
    return pools


def rerank_retrieved(
    benchmark: Benchmark,
    runs: Mapping[str, Run],
    scorer,
    top_k: int = 100,
    cache=None,
    progress: bool = False,
) -> dict[str, Run]:
    """Rerank the retrieved top-``top_k`` with any scorer through the reranking path.

    Both instructions rerank the same pool (the union of the og/changed/none top-k), as in
    the FollowIR reranking protocol; ``none`` reranks it with an empty instruction.
    """
    from followir.evaluation.rerank import rerank

    pools = union_pools(runs, top_k)
    for qid in benchmark.queries:
        pools.setdefault(qid, [])
    pooled = replace_instructions(
        benchmark,
        {q: v.instruction_og for q, v in benchmark.queries.items()},
        {q: v.instruction_changed for q, v in benchmark.queries.items() if v.instruction_changed}
        if benchmark.has_changes
        else None,
        pools=pools,
    )
    out = dict(rerank(pooled, scorer, cache=cache, progress=progress).runs)
    if "none" in runs:
        bare = replace_instructions(pooled, {q: "" for q in pooled.queries}, None, pools=pools)
        out["none"] = rerank(bare, scorer, cache=cache, which=("og",), progress=progress).runs["og"]
    return out


def full_retrieval(
    benchmark: Benchmark,
    retriever: Retriever,
    model: str,
    k: int = 1000,
    main_measure: str | None = None,
    reranker=None,
    reranker_name: str | None = None,
    top_k: int = 100,
    cache=None,
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> tuple[RetrievalReport, dict[str, Run]]:
    """Index, retrieve under each instruction variant, optionally rerank, and score."""
    if not isinstance(retriever, Retriever):
        raise SpecError(
            f"model {model!r} cannot search a whole corpus (it has no index()/retrieve()); "
            "use a retriever such as bm25 or dense:..., and pass this model as --rerank"
        )
    timings = {"index": index_corpus(benchmark, retriever)}
    t0 = time.perf_counter()
    runs = retrieve_runs(benchmark, retriever, k, progress=progress)
    timings["retrieve"] = time.perf_counter() - t0
    if reranker is not None:
        t0 = time.perf_counter()
        runs = rerank_retrieved(benchmark, runs, reranker, top_k, cache, progress)
        timings["rerank"] = time.perf_counter() - t0
    report = evaluate_runs_full(
        benchmark, runs, model, k if reranker is None else top_k, main_measure, n_boot, seed,
        reranker=reranker_name,
    )
    report.timings = timings
    return report, runs


def evaluate_instructir(
    benchmark: Benchmark,
    model,
    model_name: str,
    k: int = 100,
    cache=None,
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> EvalResult:
    """InstructIR: nDCG@10 and Robustness@10 (worst nDCG@10 over a base query's variants).

    A retriever searches the whole corpus (top ``k``); any other scorer reranks the
    benchmark's pools (or, without pools, the whole corpus).  Variants are grouped by
    `followir.data.instructir.query_groups`.
    """
    from followir.data.instructir import query_groups
    from followir.evaluation.evaluate import evaluate_runs
    from followir.evaluation.rerank import rerank

    benchmark.metadata["groups"] = query_groups(benchmark)
    t0 = time.perf_counter()
    if isinstance(model, Retriever) and benchmark.pools is None:
        index_corpus(benchmark, model)
        run = retrieve_runs(benchmark, model, k, variants=("og",), progress=progress)["og"]
        protocol = "full-retrieval"
    else:
        run = rerank(benchmark, model, cache=cache, which=("og",), progress=progress).runs["og"]
        protocol = "rerank"
    measures = evaluate_runs(benchmark, {"og": run}, ["nDCG@10", "Robustness@10"], n_boot, seed)
    groups = benchmark.metadata["groups"]
    return EvalResult(
        model=model_name,
        benchmark=benchmark.name,
        measures=measures,
        main_measure="nDCG@10",
        fingerprint=getattr(model, "fingerprint", ""),
        settings={
            "protocol": protocol,
            "k": k,
            "variants": len(groups),
            "base_queries": len(set(groups.values())),
        },
        timings={"seconds": time.perf_counter() - t0},
    )
