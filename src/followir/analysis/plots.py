"""Figures for reports (matplotlib, Agg backend: no display needed).

* `plot_ablation` — FollowIR Fig. 3: per model, the change of the main measure when the
  query gets keywords / a short instruction / the full instruction instead of nothing.
* `plot_pmrr` — p-MRR per model and benchmark with 95% bootstrap CIs as error bars.
* `plot_per_query_pmrr` — every topic's p-MRR per model (a strip plot), the worst topics
  labelled: which information needs a model ignores the change of.

Every function returns a Figure; `save_figure` writes it as PNG and SVG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from followir.errors import require

PMRR = "p-MRR"
COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3"]
VARIANT_COLORS = {"keywords": "#9ecae1", "short": "#4292c6", "full": "#08519c"}


def _plt():
    mpl = require("matplotlib", "plots")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, stem: str | Path) -> list[Path]:
    """``stem.png`` (150 dpi) and ``stem.svg``."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def _short(name: str, width: int = 22) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]


def plot_ablation(ablation) -> object:
    """Grouped bars: Δ main measure (x100) vs. no instruction, per model and variant."""
    plt = _plt()
    rows = [r for r in ablation.rows() if r.variant != "none"]
    models = list(dict.fromkeys(r.model for r in rows))
    variants = [v for v in ("keywords", "short", "full") if any(r.variant == v for r in rows)]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.4 * len(models) + 2), 3.8))
    width = 0.8 / max(len(variants), 1)
    for j, v in enumerate(variants):
        xs, ys, errs = [], [], [[], []]
        for i, m in enumerate(models):
            r = next((r for r in rows if r.model == m and r.variant == v), None)
            if r is None or math.isnan(r.delta):
                continue
            xs.append(i + (j - (len(variants) - 1) / 2) * width)
            ys.append(100 * r.delta)
            lo, hi = r.delta_ci if r.delta_ci else (r.delta, r.delta)
            errs[0].append(max(0.0, 100 * (r.delta - lo)))
            errs[1].append(max(0.0, 100 * (hi - r.delta)))
        ax.bar(xs, ys, width, yerr=errs, capsize=3, label=v, color=VARIANT_COLORS[v], edgecolor="black", linewidth=0.5)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(models)), [_short(m) for m in models], rotation=20, ha="right")
    ax.set_ylabel(f"Δ {ablation.main_measure} (x100)\nvs. query only")
    ax.set_title(f"{ablation.benchmark}: which part of the instruction helps?")
    ax.legend(title="instruction", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_pmrr(results: Sequence) -> object:
    """p-MRR (x100) per model, one bar per benchmark, 95% CI error bars."""
    plt = _plt()
    rows = [r for r in results if PMRR in r.measures]
    models = list(dict.fromkeys(r.model for r in rows))
    benches = list(dict.fromkeys(r.benchmark for r in rows))
    by_key = {(r.model, r.benchmark): r.measures[PMRR] for r in rows}
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(models) + 2), 3.8))
    width = 0.8 / max(len(benches), 1)
    for j, b in enumerate(benches):
        xs, ys, errs = [], [], [[], []]
        for i, m in enumerate(models):
            v = by_key.get((m, b))
            if v is None:
                continue
            xs.append(i + (j - (len(benches) - 1) / 2) * width)
            ys.append(100 * v.value)
            has_ci = v.ci_low is not None and v.ci_high is not None and not math.isnan(v.ci_low)
            errs[0].append(100 * (v.value - v.ci_low) if has_ci else 0.0)
            errs[1].append(100 * (v.ci_high - v.value) if has_ci else 0.0)
        ax.bar(xs, ys, width, yerr=errs, capsize=3, label=b, color=COLORS[j % len(COLORS)], edgecolor="black", linewidth=0.5)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(models)), [_short(m) for m in models], rotation=20, ha="right")
    ax.set_ylabel("p-MRR (x100)\n> 0: follows the change")
    ax.set_title("Instruction following (p-MRR, 95% CI)")
    if benches:
        ax.legend(title="benchmark", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_per_query_pmrr(results: Sequence, label_worst: int = 3) -> object:
    """A strip per (model, benchmark): each dot one topic's p-MRR; the worst labelled."""
    plt = _plt()
    import numpy as np

    rows = [r for r in results if PMRR in r.measures and r.measures[PMRR].per_query]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.55 * len(rows) + 1.2)))
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    labels = []
    for i, r in enumerate(rows):
        pq = r.measures[PMRR].per_query
        qids = sorted(pq)
        xs = np.array([100 * pq[q] for q in qids])
        ys = i + rng.uniform(-0.18, 0.18, size=len(xs))
        colors = ["#C44E52" if x < 0 else "#4C72B0" for x in xs]
        ax.scatter(xs, ys, s=18, c=colors, alpha=0.8, edgecolors="none")
        ax.plot([100 * r.measures[PMRR].value] * 2, [i - 0.3, i + 0.3], color="black", linewidth=2)
        for k in np.argsort(xs)[:label_worst]:
            if xs[k] < 0:
                ax.annotate(qids[k], (xs[k], ys[k]), xytext=(2, 4), textcoords="offset points", fontsize=7, color="#7f1d1d")
        labels.append(_short(f"{r.model} · {r.benchmark}", 34))
    ax.axvline(0, color="gray", linewidth=0.8, linestyle="--")
    ax.set_yticks(range(len(rows)), labels)
    ax.set_xlim(-105, 105)
    ax.set_xlabel("per-topic p-MRR (x100); bar = mean; red = ranked the now-irrelevant docs higher")
    ax.set_title("Which topics does each model fail?")
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def report_figures(results: Sequence, ablations: Sequence = ()) -> dict[str, object]:
    """All figures a report has data for, by file stem."""
    figs: dict[str, object] = {}
    if any(PMRR in r.measures for r in results):
        figs["pmrr"] = plot_pmrr(results)
    if any(PMRR in r.measures and r.measures[PMRR].per_query for r in results):
        figs["pmrr_per_query"] = plot_per_query_pmrr(results)
    for ab in ablations:
        figs[f"ablation_{ab.benchmark}"] = plot_ablation(ab)
    return figs
