"""Why models fail to follow instructions: the instruction-length ablation (FollowIR Fig. 3).

Each model is evaluated four times with the instruction replaced by

* ``none``     — nothing (the query alone, the baseline every delta is taken against),
* ``keywords`` — a few keywords of the instruction,
* ``short``    — a short, generic instruction,
* ``full``     — the full TREC narrative (the benchmark as is).

A model that gains as much from keywords as from the full narrative is using the
instruction as extra query terms, not as a definition of relevance.  Variants that also
exist for the *altered* instruction get a p-MRR too, so one can see whether shortening the
instruction removes the model's (lack of) sensitivity to the change.

Variant texts come from, in order: the data (``keywords`` / ``short_query`` fields of the
hub layout, in ``Query.extra``; ``keywords_changed`` / ``short_query_changed`` for the
altered side), else a generator (`followir.models.generators`: an OpenAI-compatible
endpoint or a local LM, greedy, with the paper's prompts from `followir.analysis.generators`; the LLM writes the short instruction from
the narrative and, as the paper's prompt title says, the keywords from that short
instruction), else the offline extractor of `followir.analysis.keywords` (the default).

An ablation is an ordinary benchmark with other instruction texts, run through the normal
reranking path, so the score cache makes reruns free and interrupted runs resume.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from followir.analysis.generators import (
    ABLATION_SAMPLING,
    KEYWORDS_PROMPT,
    SHORT_PROMPT,
    OfflineGenerator,
    fill,
    parse_keywords,
    parse_short,
)
from followir.analysis.keywords import keywords_text, short_instruction
from followir.analysis.report import pct
from followir.data.types import Benchmark
from followir.errors import DataError, SpecError
from followir.evaluation.results import EvalResult
from followir.evaluation.retrieve import replace_instructions
from followir.models.generators import CachedGenerator, Generator

log = logging.getLogger(__name__)

VARIANTS = ("none", "keywords", "short", "full")
DATA_FIELDS = {"keywords": "keywords", "short": "short_query"}


@dataclass
class VariantTexts:
    """Instruction texts of one variant: original side, altered side (or None), and where
    they came from (``data``, ``offline``, a generator name, or ``benchmark``)."""

    variant: str
    og: dict[str, str]
    changed: dict[str, str] | None
    source: str


def _field_text(value: str) -> str:
    """A data field as instruction text; JSON lists (keywords) become space-joined words."""
    value = value.strip()
    if value.startswith("["):
        try:
            items = json.loads(value)
            return " ".join(str(x) for x in items)
        except json.JSONDecodeError:
            pass
    return value


def _from_data(benchmark: Benchmark, variant: str) -> VariantTexts | None:
    name = DATA_FIELDS[variant]
    queries = benchmark.queries.values()
    if not queries or not all(q.extra.get(name) for q in queries):
        return None
    og = {q.query_id: _field_text(q.extra[name]) for q in queries}
    changed = None
    with_changed = [q for q in queries if q.instruction_changed is not None]
    if benchmark.has_changes and with_changed and all(q.extra.get(f"{name}_changed") for q in with_changed):
        changed = {q.query_id: _field_text(q.extra[f"{name}_changed"]) for q in with_changed}
    return VariantTexts(variant, og, changed, "data")


def _generate(generator: Generator, variant: str, text: str) -> str:
    if isinstance(generator, OfflineGenerator):
        if variant == "keywords":
            return keywords_text(text, generator.keywords_k)
        return short_instruction(text, generator.short_words)
    short = parse_short(generator.generate(fill(SHORT_PROMPT, text), ABLATION_SAMPLING))
    if variant == "short":
        return short
    return parse_keywords(generator.generate(fill(KEYWORDS_PROMPT, short or text), ABLATION_SAMPLING))


def variant_texts(
    benchmark: Benchmark,
    variant: str,
    generator: Generator | None = None,
    use_data: bool = True,
) -> VariantTexts:
    """The instruction texts of ``variant`` for every query (see module doc for sources)."""
    if variant not in VARIANTS:
        raise SpecError(f"unknown ablation variant {variant!r}; valid: {', '.join(VARIANTS)}")
    queries = benchmark.queries.values()
    if variant == "full":
        changed = (
            {q.query_id: q.instruction_changed for q in queries if q.instruction_changed is not None}
            if benchmark.has_changes
            else None
        )
        return VariantTexts(variant, {q.query_id: q.instruction_og for q in queries}, changed, "benchmark")
    if variant == "none":
        return VariantTexts(variant, {q.query_id: "" for q in queries}, None, "none")
    if use_data:
        found = _from_data(benchmark, variant)
        if found is not None:
            return found
    generator = generator or OfflineGenerator()
    og: dict[str, str] = {}
    changed: dict[str, str] = {}
    for q in queries:
        if not q.instruction_og.strip():
            raise DataError(f"{benchmark.name}: query {q.query_id!r} has no instruction to ablate")
        og[q.query_id] = _generate(generator, variant, q.instruction_og)
        if benchmark.has_changes and q.instruction_changed is not None:
            changed[q.query_id] = _generate(generator, variant, q.instruction_changed)
    # Both sides: an empty altered text would silently measure p-MRR against the query alone.
    empty = [qid for qid, t in og.items() if not t.strip()]
    empty += [f"{qid} (altered)" for qid, t in changed.items() if not t.strip()]
    if empty:
        raise DataError(
            f"{benchmark.name}: generator {generator.name!r} produced an empty {variant} "
            f"instruction for queries {empty[:5]}"
        )
    return VariantTexts(variant, og, changed or None, generator.name)


def ablated_benchmark(benchmark: Benchmark, texts: VariantTexts) -> Benchmark:
    """The benchmark with the variant's instruction texts (p-MRR only where altered texts exist)."""
    if texts.variant == "full":
        return benchmark
    return replace_instructions(benchmark, texts.og, texts.changed)


@dataclass
class AblationRow:
    """One (model, variant) line of the ablation table; values are fractions."""

    model: str
    variant: str
    source: str
    main: float
    delta: float  # main - main(none)
    pmrr: float | None = None
    delta_ci: tuple[float, float] | None = None


@dataclass
class AblationResult:
    benchmark: str
    main_measure: str
    results: dict[str, dict[str, EvalResult]] = field(default_factory=dict)  # model -> variant

    def rows(self) -> list[AblationRow]:
        """Score of each variant and its difference from ``none`` (paired per query)."""
        rows = []
        m = self.main_measure
        for model, by_variant in self.results.items():
            base = by_variant.get("none")
            for variant in VARIANTS:
                res = by_variant.get(variant)
                if res is None or m not in res.measures:
                    continue
                main = res.measures[m]
                delta = float("nan")
                delta_ci = None
                if base is not None and m in base.measures and variant != "none":
                    delta = main.value - base.measures[m].value
                    delta_ci = _paired_ci(main.per_query, base.measures[m].per_query)
                pmrr = res.measures.get("p-MRR")
                rows.append(
                    AblationRow(
                        model=model,
                        variant=variant,
                        source=str(res.settings.get("variant_source", "")),
                        main=main.value,
                        delta=delta,
                        pmrr=None if pmrr is None else pmrr.value,
                        delta_ci=delta_ci,
                    )
                )
        return rows

    def to_dict(self) -> dict[str, object]:
        return {
            "benchmark": self.benchmark,
            "main_measure": self.main_measure,
            "rows": [r.__dict__ for r in self.rows()],
        }

    def markdown(self) -> str:
        """The Fig. 3 numbers as a table (x100, deltas signed)."""

        m = self.main_measure
        lines = [
            f"### {self.benchmark}: instruction ablation ({m}, Δ vs. no instruction)",
            "",
            f"| model | variant | source | {m} | Δ {m} | 95% CI of Δ | p-MRR |",
            "|---|---|---|---:|---:|---:|---:|",
        ]
        for r in self.rows():
            ci = "–" if r.delta_ci is None else f"[{pct(r.delta_ci[0], True)}, {pct(r.delta_ci[1], True)}]"
            delta = "–" if r.variant == "none" else pct(r.delta, True)
            lines.append(
                f"| {r.model} | {r.variant} | {r.source} | {pct(r.main)} | {delta} | {ci} | {pct(r.pmrr, True)} |"
            )
        return "\n".join(lines) + "\n"


def _paired_ci(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[float, float] | None:
    common = sorted(set(a) & set(b))
    if len(common) < 2:
        return None
    from followir.metrics.stats import bootstrap_ci

    ci = bootstrap_ci({q: a[q] - b[q] for q in common})
    return (ci.low, ci.high)


def run_ablation(
    benchmark: Benchmark,
    models: Mapping[str, object],
    out_dir: str | Path,
    variants: Sequence[str] = VARIANTS,
    generator: Generator | None = None,
    use_data: bool = True,
    measures: Sequence[str] | None = None,
    cache=None,
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> AblationResult:
    """Evaluate every model under every variant; results land in ``out_dir/<benchmark>/``.

    ``models`` maps a spec (the name written in results) to a scorer, or to a zero-argument
    callable that builds one (so a model whose results all exist is never loaded).  An
    existing result file for a (model, variant) is reused, which makes the run resumable.
    """
    from followir.evaluation.evaluate import evaluate_runs
    from followir.evaluation.rerank import rerank
    from followir.evaluation.runs import model_slug

    if "none" not in variants:
        variants = ("none", *variants)
    main = benchmark.main_measure
    measures = list(measures or [main, "p-MRR"])
    if main not in measures:
        measures.insert(0, main)
    base_dir = Path(out_dir) / model_slug(benchmark.name)
    base_dir.mkdir(parents=True, exist_ok=True)

    texts = {v: variant_texts(benchmark, v, generator, use_data) for v in variants}
    with (base_dir / "variants.jsonl").open("w", encoding="utf-8") as fh:
        for qid in benchmark.queries:
            row = {"_id": qid}
            for v, t in texts.items():
                row[v] = t.og[qid]
                if t.changed is not None and qid in t.changed:
                    row[f"{v}_changed"] = t.changed[qid]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    result = AblationResult(benchmark=benchmark.name, main_measure=main)
    for spec, model in models.items():
        by_variant: dict[str, EvalResult] = {}
        scorer = None
        for v in variants:
            path = base_dir / f"{model_slug(spec)}.{v}.json"
            if path.exists():
                by_variant[v] = EvalResult.load(path)
                continue
            if scorer is None:
                scorer = model() if callable(model) and not hasattr(model, "score") else model
            bench = ablated_benchmark(benchmark, texts[v])
            out = rerank(bench, scorer, cache=cache, progress=progress)
            res = EvalResult(
                model=spec,
                benchmark=benchmark.name,
                measures=evaluate_runs(bench, out.runs, measures, n_boot, seed),
                main_measure=main,
                fingerprint=getattr(scorer, "fingerprint", ""),
                settings={"protocol": "ablation", "variant_source": texts[v].source},
                timings={"seconds": out.seconds},
                variant=v,
            )
            res.save(path)
            by_variant[v] = res
            log.info("%s %s %s: %s", benchmark.name, spec, v, res.measures[main].value)
        result.results[spec] = by_variant
    (base_dir / "ablation.json").write_text(json.dumps(result.to_dict(), indent=1), encoding="utf-8")
    (base_dir / "ablation.md").write_text(result.markdown(), encoding="utf-8")
    return result


def cached(generator: Generator, out_dir: str | Path) -> Generator:
    """Wrap an LLM generator with the on-disk generation cache (offline needs none)."""
    if isinstance(generator, OfflineGenerator):
        return generator
    return CachedGenerator(generator, Path(out_dir) / "generations")
