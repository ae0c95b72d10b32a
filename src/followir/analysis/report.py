"""Results reports in the layout of the FollowIR paper's Table 2.

Rows are models grouped by family; for each benchmark two columns, its main measure
(MAP@1000 for Robust04/Core17, nDCG@5 for News21) and p-MRR; then the averages of both over
the benchmarks.  Cells are x100 with a 95% bootstrap CI when the result has one (results
read from mteb files have none).  One table, four renderings (Markdown, LaTeX, CSV, HTML),
so every format shows the same numbers.

The family of a row is the model spec's family (``bm25``, ``dense:…``, ``llm:…``; an
explicit spec, never a guess from the model's name), or ``settings["family"]`` when a
result sets it; results read from mteb files form the group "mteb results".
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from followir.errors import DataError, SpecError
from followir.evaluation.results import SCHEMA, EvalResult, MeasureResult

log = logging.getLogger(__name__)

PMRR = "p-MRR"
MISSING = "–"

FAMILY_LABELS = {
    "bm25": "Lexical",
    "dense": "Bi-encoders",
    "api-embed": "Bi-encoders (API)",
    "cross": "Cross-encoders",
    "t5": "Seq2seq rerankers",
    "llm": "LLM rerankers",
    "api-llm": "LLM rerankers (API)",
    "random": "Baselines",
    "mteb": "mteb results",
}
FAMILY_ORDER = list(FAMILY_LABELS.values())


def family_of(result: EvalResult) -> str:
    """Display group of a result row (see module doc)."""
    explicit = result.settings.get("family")
    if explicit:
        return str(explicit)
    if result.settings.get("source") == "mteb":
        return FAMILY_LABELS["mteb"]
    from followir.models.registry import parse_spec

    spec = result.model.split(">>")[-1]  # retrieve>>rerank rows group by the reranker
    try:
        family, _, _ = parse_spec(spec)
    except SpecError:
        return "Other"
    return FAMILY_LABELS.get(family, family)


# -- loading -------------------------------------------------------------------------------
def load_results(paths: Iterable[str | Path], variants: Sequence[str] = ("full",)) -> list[EvalResult]:
    """Every followir result JSON and mteb result file under ``paths`` (files or folders).

    Ablation variants other than ``variants`` are left out (they belong to the ablation
    plot, not Table 2); other JSON files (run manifests, ablation summaries) are skipped.
    """
    from followir.analysis.mteb_results import from_mteb, is_mteb_file, model_from_path

    out: list[EvalResult] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise DataError("no such results file or folder", root)
        files = [root] if root.is_file() else sorted(root.rglob("*.json"))
        for path in files:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise DataError(f"not valid JSON: {exc.msg}", path, exc.lineno) from None
            except UnicodeDecodeError as exc:
                raise DataError(f"not valid JSON: {exc}", path) from None
            if isinstance(data, dict) and data.get("schema") == SCHEMA:
                try:
                    res = EvalResult.from_dict(data)
                except (KeyError, TypeError) as exc:  # a missing or unknown field
                    raise DataError(f"malformed followir result: {exc}", path) from None
                if variants and res.variant not in variants:
                    continue
                out.append(res)
            elif is_mteb_file(data):
                out.append(from_mteb(data, model_from_path(path), str(path)))
            else:
                log.debug("skipping %s: neither a followir nor an mteb result", path)
    if not out:
        raise DataError(f"no results found in {', '.join(map(str, paths))}")
    # The same (model, benchmark, variant) found twice (e.g. an evaluation folder and the
    # ablation's "full" variant): keep the first so the table and every plot show it once.
    unique: dict[tuple[str, str, str], EvalResult] = {}
    for res in out:
        key = (res.model, res.benchmark, res.variant)
        if key in unique:
            log.warning("%s on %s (%s) found twice; keeping the first", *key)
            continue
        unique[key] = res
    return list(unique.values())


# -- the table -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    benchmark: str  # "Average" for the summary columns
    measure: str

    @property
    def header(self) -> str:
        return f"{self.benchmark} {self.measure}"


@dataclass
class Row:
    family: str
    model: str
    cells: list[MeasureResult | None]


@dataclass
class ReportTable:
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)

    def families(self) -> list[tuple[str, list[Row]]]:
        order: list[str] = []
        for r in self.rows:
            if r.family not in order:
                order.append(r.family)
        order.sort(key=lambda f: (FAMILY_ORDER.index(f) if f in FAMILY_ORDER else len(FAMILY_ORDER), f))
        return [(f, [r for r in self.rows if r.family == f]) for f in order]


PAPER_ORDER = ("robust04", "news21", "core17")


def _paper_order(benchmark: str) -> int:
    """FollowIR's column order (Robust04, News21, Core17) first, then the rest as found."""
    stem = Path(benchmark).name.lower()
    return next((i for i, b in enumerate(PAPER_ORDER) if stem.startswith(b)), len(PAPER_ORDER))


def build_report_table(results: Iterable[EvalResult]) -> ReportTable:
    """Table 2: per benchmark main measure and p-MRR, then the averages over benchmarks."""
    results = list(results)
    benches: list[str] = []
    main_of: dict[str, str] = {}
    for r in results:
        if r.benchmark not in benches:
            benches.append(r.benchmark)
            main_of[r.benchmark] = r.main_measure
    benches.sort(key=_paper_order)
    columns: list[Column] = []
    for b in benches:
        columns.append(Column(b, main_of[b]))
        if any(PMRR in r.measures for r in results if r.benchmark == b):
            columns.append(Column(b, PMRR))
    pmrr_benches = [c.benchmark for c in columns if c.measure == PMRR]
    if len(benches) > 1:
        columns.append(Column("Average", "score"))
        if len(pmrr_benches) > 1:
            columns.append(Column("Average", PMRR))
    by_key = {(r.model, r.benchmark): r for r in results}
    models: list[str] = []
    for r in results:
        if r.model not in models:
            models.append(r.model)
    table = ReportTable(columns)
    for model in models:
        any_result = next(r for r in results if r.model == model)
        cells: list[MeasureResult | None] = []
        for c in columns:
            if c.benchmark == "Average":
                bs = benches if c.measure == "score" else pmrr_benches
                vals = []
                for b in bs:
                    r = by_key.get((model, b))
                    m = None if r is None else r.measures.get(main_of[b] if c.measure == "score" else PMRR)
                    if m is not None:
                        vals.append(m.value)
                complete = len(vals) == len(bs) and vals
                cells.append(MeasureResult(sum(vals) / len(vals), {}) if complete else None)
            else:
                r = by_key.get((model, c.benchmark))
                cells.append(None if r is None else r.measures.get(c.measure))
        table.rows.append(Row(family_of(any_result), model, cells))
    return table


def pct(x: float | None, signed: bool = False, digits: int = 1) -> str:
    """A fraction as x100 text (``29.1``, signed ``+2.4``); a dash when missing or NaN."""
    if x is None or math.isnan(x):
        return MISSING
    return format(100 * x, f"+.{digits}f" if signed else f".{digits}f")


def fmt(m: MeasureResult | None, signed: bool = False, ci: bool = True, digits: int = 1) -> str:
    """``29.1 [25.0, 33.2]`` x100; p-MRR signed (``+2.4``); a dash when missing."""
    if m is None:
        return MISSING
    text = pct(m.value, signed, digits)
    if text != MISSING and ci and m.ci_low is not None and m.ci_high is not None:
        if not (math.isnan(m.ci_low) or math.isnan(m.ci_high)):
            text += f" [{pct(m.ci_low, signed, digits)}, {pct(m.ci_high, signed, digits)}]"
    return text


def to_markdown(table: ReportTable, ci: bool = True) -> str:
    head = ["Model", *(c.header for c in table.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join([":---", *["---:"] * len(table.columns)]) + "|"]
    for family, rows in table.families():
        lines.append(f"| **{family}** |" + " |" * len(table.columns))
        for r in rows:
            cells = [fmt(m, c.measure == PMRR, ci) for c, m in zip(table.columns, r.cells, strict=True)]
            lines.append("| " + " | ".join([r.model.replace("|", "\\|"), *cells]) + " |")
    return "\n".join(lines) + "\n"


def _tex(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"), ("$", r"\$")):
        text = text.replace(a, b)
    return text


def to_latex(table: ReportTable, ci: bool = True) -> str:
    """A booktabs table: benchmark names spanning their columns, families as row groups."""
    groups: list[tuple[str, int]] = []
    for c in table.columns:
        if groups and groups[-1][0] == c.benchmark:
            groups[-1] = (c.benchmark, groups[-1][1] + 1)
        else:
            groups.append((c.benchmark, 1))
    n = len(table.columns)
    lines = [
        r"\begin{tabular}{l" + "r" * n + "}",
        r"\toprule",
        " & ".join([""] + [rf"\multicolumn{{{k}}}{{c}}{{{_tex(b)}}}" for b, k in groups]) + r" \\",
        " & ".join(["Model"] + [_tex(c.measure) for c in table.columns]) + r" \\",
        r"\midrule",
    ]
    for i, (family, rows) in enumerate(table.families()):
        if i:
            lines.append(r"\midrule")
        lines.append(rf"\multicolumn{{{n + 1}}}{{l}}{{\textit{{{_tex(family)}}}}} \\")
        for r in rows:
            cells = [_tex(fmt(m, c.measure == PMRR, ci)) for c, m in zip(table.columns, r.cells, strict=True)]
            lines.append(" & ".join([_tex(r.model), *cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def to_csv(table: ReportTable) -> str:
    """One line per model; each column as value, ci_low, ci_high (x100, 4 decimals)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    head = ["family", "model"]
    for c in table.columns:
        head += [c.header, f"{c.header} ci_low", f"{c.header} ci_high"]
    w.writerow(head)
    for family, rows in table.families():
        for r in rows:
            line: list[str] = [family, r.model]
            for m in r.cells:
                for v in (None if m is None else m.value, None if m is None else m.ci_low, None if m is None else m.ci_high):
                    line.append("" if v is None or math.isnan(v) else f"{100 * v:.4f}")
            w.writerow(line)
    return buf.getvalue()


# -- ablation rows from saved variant results ----------------------------------------------
def ablation_results(paths: Iterable[str | Path]):
    """`AblationResult`s (one per benchmark) from the per-variant files `followir ablate`
    writes; empty when the folders hold no ablation."""
    from followir.analysis.ablate import VARIANTS, AblationResult

    results = load_results(paths, variants=VARIANTS)
    out: dict[str, AblationResult] = {}
    for r in results:
        if r.settings.get("protocol") != "ablation":
            continue
        ab = out.setdefault(r.benchmark, AblationResult(r.benchmark, r.main_measure))
        ab.results.setdefault(r.model, {})[r.variant] = r
    return list(out.values())


def write_report(
    paths: Sequence[str | Path],
    out_dir: str | Path,
    formats: Sequence[str] = ("md",),
    ci: bool = True,
    plots: bool = True,
) -> dict[str, Path]:
    """Write the table in each format (``md``, ``latex``, ``csv``, ``html``) and the plots."""
    valid = {"md", "latex", "csv", "html"}
    bad = [f for f in formats if f not in valid]
    if bad:
        raise SpecError(f"unknown report format(s) {bad}; valid: {', '.join(sorted(valid))}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = load_results(paths)
    table = build_report_table(results)
    ablations = ablation_results(paths)
    written: dict[str, Path] = {}
    if "md" in formats:
        text = "## FollowIR results (x100, 95% CI)\n\n" + to_markdown(table, ci)
        for ab in ablations:
            text += "\n" + ab.markdown()
        written["md"] = out_dir / "report.md"
        written["md"].write_text(text, encoding="utf-8")
    if "latex" in formats:
        written["latex"] = out_dir / "report.tex"
        written["latex"].write_text(to_latex(table, ci), encoding="utf-8")
    if "csv" in formats:
        written["csv"] = out_dir / "report.csv"
        written["csv"].write_text(to_csv(table), encoding="utf-8")
    figures = {}
    if plots or "html" in formats:
        from followir.analysis import plots as P

        figures = P.report_figures(results, ablations)
        if plots:
            for name, fig in figures.items():
                for path in P.save_figure(fig, out_dir / name):
                    written[path.name] = path
    if "html" in formats:
        from followir.analysis.html import html_report

        written["html"] = out_dir / "report.html"
        written["html"].write_text(html_report(table, figures, ablations, ci), encoding="utf-8")
    for fig in figures.values():
        import matplotlib.pyplot as plt

        plt.close(fig)
    return written
