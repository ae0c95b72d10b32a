"""The LoRA fine-tuning loop for the pointwise causal-LM reranker.

Loss: the model's next-token logits after the prompt, restricted to the two answer tokens
(``false``, ``true``) and trained with cross-entropy on the label — exactly the quantity the
scorer turns into P(true), so training optimises what is scored.  ``loss="vocab"`` instead
uses cross-entropy over the full vocabulary on the answer token (the usual SFT loss, which
also pushes probability mass off every other token; the paper trained that way).

``rank_weight > 0`` adds a pairwise ranking term inside each optimizer step: for every
(relevant, non-relevant) pair of rows sharing a query *and* an instruction,
``softplus(z_neg - z_pos)`` with ``z = logit(true) - logit(false)``.  Why: p-MRR is a rank
measure under each instruction separately, and a pointwise loss is satisfied by shifting
every score of the altered instruction down together, which moves no rank.  The pairwise
term rewards exactly what p-MRR counts: under the altered instruction, a passage the
constraint excludes must fall below the passages that still satisfy it, and under the
original instruction stay above the non-relevant ones.  With ranking on, a step's rows are
grouped by *query* (all of a topic's passages under both instructions) and the step keeps
every micro-batch's graph until one backward, so memory grows with the step size.

``contrast_weight > 0`` adds a difference-in-differences term over the passages of one query
scored under two instructions A and B: with ``D(p) = z_A(p) - z_B(p)`` and
``f(p) = y_A(p) - y_B(p)``, every pair with ``f(p) > f(q)`` costs ``softplus(D(q) - D(p))``.
Why: the ranking term can still be met without reading the instruction, by learning that a
passage is "weaker" under both instructions (measured on run 3's training topics: the
excluded passages fell by the same ~2.5 logits under both instructions as the kept ones).
In ``D`` the passage's own strength and the instruction's offset cancel, so the only way to
lower this term is the interaction p-MRR measures: a passage the altered instruction
excludes must lose more score than one whose label does not change.

With ``share_prefix`` (default), the rows of a step that share a query + instruction run
that prompt prefix once and their passages against its key/value cache, gradients flowing
back through it (:func:`shared_answer_logits`).  FollowIR instructions are long, so this
halves a topic step's compute on CPU.

A plain loop rather than ``transformers.Trainer`` keeps resuming exact and the checkpoint
format open: LoRA weights, AdamW moments and the torch RNG in safetensors, the counters,
scheduler and config in JSON, each checkpoint written to a temp folder and renamed.  The
data order of each epoch comes from ``seed + epoch``, so (epoch, offset) locates a resumed
run in it and ``--resume`` continues bit-for-bit where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from followir.errors import DataError, FollowIRError

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
PRECISIONS = ("auto", "bf16", "fp32")


@dataclass
class TrainConfig:
    """Paper defaults (FollowIR-7B): effective batch 32, cosine, lr 3e-5, 2048 tokens,
    LoRA r 8 / alpha 16 on q,k,v,o, 8 epochs."""

    epochs: int = 8
    lr: float = 3e-5
    batch_size: int = 4
    grad_accum: int = 8
    max_length: int = 2048
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_targets: str = "q,k,v,o"
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_steps: int | None = None
    save_every: int = 50
    keep_checkpoints: int = 2
    seed: int = 0
    loss: str = "binary"  # or "vocab"
    rank_weight: float = 0.0  # > 0 adds the pairwise ranking term (see the module docstring)
    contrast_weight: float = 0.0  # > 0 adds the difference-in-differences term (ditto)
    template: str | None = None
    precision: str = "auto"  # "bf16" autocast, "fp32", or "auto" (bf16 where the hardware has it)
    share_prefix: bool = True  # a step's rows of one query+instruction run their prefix once

    def validate(self) -> None:
        if self.loss not in ("binary", "vocab"):
            raise FollowIRError(f"--loss must be 'binary' or 'vocab', not {self.loss!r}")
        # keep_checkpoints too: 0 would make the pruning slice [:-0] keep every checkpoint,
        # and a negative value would delete the oldest ones while keeping the rest.
        for name in ("epochs", "batch_size", "grad_accum", "max_length", "lora_r", "save_every", "keep_checkpoints"):
            if int(getattr(self, name)) < 1:
                raise FollowIRError(f"--{name.replace('_', '-')} must be >= 1")
        if self.lr <= 0:
            raise FollowIRError("--lr must be > 0")
        if not self.rank_weight >= 0:
            raise FollowIRError(f"--rank-weight must be >= 0, not {self.rank_weight}")
        if not self.contrast_weight >= 0:
            raise FollowIRError(f"--contrast-weight must be >= 0, not {self.contrast_weight}")
        if self.precision not in PRECISIONS:
            raise FollowIRError(f"--precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")


@dataclass
class TrainState:
    step: int = 0  # optimizer steps done
    epoch: int = 0
    offset: int = 0  # examples of `epoch` already consumed
    losses: list[float] = field(default_factory=list)  # mean loss of each optimizer step
    seconds: float = 0.0


@dataclass
class TrainResult:
    out: Path
    state: TrainState
    total_steps: int


# -- the model side -----------------------------------------------------------------------
def answer_logits(model, batch_ids: Sequence[Sequence[int]], pad_id: int):  # noqa: ANN001, ANN201
    """Next-token logits after each prompt, [batch, vocab], without materialising the
    logits of every position (the lm_head runs on the last real token only)."""
    import torch

    from followir.models.llm import head_at_last, pad_right

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    device = next(base.parameters()).device
    ids, lengths = pad_right(batch_ids, pad_id, device)
    mask = (torch.arange(ids.shape[1], device=device)[None] < lengths[:, None]).long()
    hidden = base.get_decoder()(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    return head_at_last(base, hidden, lengths)


def shared_answer_logits(model, batch_ids: Sequence[Sequence[int]], pad_id: int):  # noqa: ANN001, ANN201
    """:func:`answer_logits` for prompts that share a token prefix (one query +
    instruction, many passages), or None when the model cannot share it.

    The prefix runs once, at batch 1; its key/value cache, still in the autograd graph, is
    repeated over the rows and each row's own tokens run against it.  The gradient of every
    row flows back through the one prefix pass, so the result equals the unshared pass up
    to rounding while a long FollowIR instruction is computed once instead of once per
    passage.  Rows are right-padded (see :func:`~followir.models.llm.pad_right`), as in the
    scorer's shared path."""
    import torch

    from followir.models.llm import cache_arg, common_prefix, head_at_last, pad_right, prefix_cache

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    arg = cache_arg(base)
    start = common_prefix(batch_ids)
    if arg is None or start == 0 or len(batch_ids) < 2:
        return None
    device = next(base.parameters()).device
    cache = prefix_cache(base, batch_ids[0][:start], arg, device)
    if not getattr(cache, "is_croppable", True):  # sliding-window or recurrent layers
        return None
    cache.batch_repeat_interleave(len(batch_ids))
    ids, lengths = pad_right([x[start:] for x in batch_ids], pad_id, device)
    positions = torch.arange(start, start + ids.shape[1], device=device)[None].expand(len(batch_ids), -1)
    hidden = base.get_decoder()(input_ids=ids, position_ids=positions, use_cache=True, **{arg: cache}).last_hidden_state
    return head_at_last(base, hidden, lengths)


def step_units(
    chunk: Sequence[int], lengths: Sequence[int], size: int, prefix_keys: Sequence[int] | None
) -> list[tuple[list[int], bool]]:
    """The forward passes of one optimizer step: ``(rows, shared)``.  Rows with the same
    prefix key (one query + instruction) form one shared-prefix pass; rows alone with their
    key take the length-sorted micro-batches of :func:`micro_batches`."""
    if prefix_keys is None:
        return [(b, False) for b in micro_batches(chunk, lengths, size)]
    by_key: dict[int, list[int]] = {}
    for i in chunk:
        by_key.setdefault(prefix_keys[i], []).append(i)
    units = [(rows, True) for rows in by_key.values() if len(rows) > 1]
    alone = [rows[0] for rows in by_key.values() if len(rows) == 1]
    return units + [(b, False) for b in micro_batches(alone, lengths, size)]


def step_loss(logits, labels, true_id: int, false_id: int, kind: str):  # noqa: ANN001, ANN201
    """Summed loss of a micro-batch (the caller divides by the examples in the step)."""
    import torch
    import torch.nn.functional as F

    y = torch.tensor(labels, dtype=torch.long, device=logits.device)
    if kind == "binary":
        two = torch.stack([logits[:, false_id], logits[:, true_id]], dim=1).float()
        return F.cross_entropy(two, y, reduction="sum")
    target = torch.where(y == 1, torch.full_like(y, true_id), torch.full_like(y, false_id))
    return F.cross_entropy(logits.float(), target, reduction="sum")


def margins(logits, true_id: int, false_id: int):  # noqa: ANN001, ANN201
    """``logit(true) - logit(false)`` per row: the quantity whose order is the ranking
    (P(true) over the two answer tokens is a monotone function of it)."""
    return (logits[:, true_id] - logits[:, false_id]).float()


def rank_loss(z, labels: Sequence[int], keys: Sequence[int]):  # noqa: ANN001, ANN201
    """Mean ``softplus(z_neg - z_pos)`` over the (relevant, non-relevant) pairs that share a
    key (one key per query+instruction); ``None`` when the rows form no such pair."""
    import torch
    import torch.nn.functional as F

    y = torch.tensor(labels, device=z.device)
    k = torch.tensor(keys, device=z.device)
    pair = (k[:, None] == k[None, :]) & (y[:, None] == 1) & (y[None, :] == 0)  # [pos, neg]
    if not bool(pair.any()):
        return None
    diff = z[None, :] - z[:, None]  # diff[i, j] = z_j - z_i: neg j minus pos i
    return F.softplus(diff[pair]).mean()


def contrast_loss(z, labels: Sequence[int], keys: Sequence[tuple[int, int, int]]):  # noqa: ANN001, ANN201
    """Mean ``softplus(D(q) - D(p))`` over passage pairs of one query and one instruction
    pair whose label change ``f`` orders them ``f(p) > f(q)`` (see the module docstring).

    ``keys`` holds ``(query, passage, instruction)`` ids per row; a passage counts for an
    instruction pair only when it has a row under both.  ``None`` when no pair exists.
    """
    import torch
    import torch.nn.functional as F

    rows: dict[tuple[int, int], dict[int, int]] = {}  # (query, passage) -> instruction -> row
    for i, (q, p, ins) in enumerate(keys):
        rows.setdefault((q, p), {})[ins] = i
    # (query, instruction A, instruction B) -> [(row under A, row under B, label change)]
    by_contrast: dict[tuple[int, int, int], list[tuple[int, int, int]]] = {}
    for (q, _), under in rows.items():
        inst = sorted(under)
        for x, a in enumerate(inst):
            for b in inst[x + 1 :]:
                ra, rb = under[a], under[b]
                by_contrast.setdefault((q, a, b), []).append((ra, rb, int(labels[ra]) - int(labels[rb])))
    hi: list[tuple[int, int]] = []
    lo: list[tuple[int, int]] = []
    for members in by_contrast.values():
        for ra, rb, f in members:
            for sa, sb, g in members:
                if f > g:
                    hi.append((ra, rb))
                    lo.append((sa, sb))
    if not hi:
        return None
    h = torch.tensor(hi, device=z.device)
    lw = torch.tensor(lo, device=z.device)
    d_hi = z[h[:, 0]] - z[h[:, 1]]
    d_lo = z[lw[:, 0]] - z[lw[:, 1]]
    return F.softplus(d_lo - d_hi).mean()


_TRIM: object = None


def release_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc ``malloc_trim``); a no-op elsewhere.

    Why: every step has different sequence lengths, so glibc's heap fragments and a long
    run's RSS climbs although the memory is free.  Measured on SmolLM2 with ranking steps
    (16 rows kept alive per step): 17.6 GB after 22 steps of one process, and 4.8 GB right
    after one ``malloc_trim(0)`` (run through gdb on the live process).
    """
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes
            import ctypes.util

            _TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
            _TRIM = False
    if _TRIM:
        _TRIM(0)  # type: ignore[operator]


# -- checkpoints ------------------------------------------------------------------------------
def _data_hash(encoded: Sequence[tuple[list[int], int]]) -> str:
    h = hashlib.sha256()
    for ids, label in encoded:
        h.update(json.dumps([ids, label]).encode())
    return h.hexdigest()[:16]


def list_checkpoints(root: Path) -> list[Path]:
    """Finished checkpoints (``step-NNNNNN`` with a state.json) in ``root``, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name.startswith("step-") and (p / "state.json").is_file())


def save_checkpoint(root: Path, model, optimizer, scheduler, state: TrainState, meta: dict) -> Path:  # noqa: ANN001
    import torch
    from safetensors.torch import save_file

    from followir.train.lora import adapter_state

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{state.step:06d}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        save_file(adapter_state(model), str(tmp / "adapter.safetensors"))
        opt = optimizer.state_dict()
        tensors = {"rng.torch": torch.get_rng_state()}
        for idx, st in opt["state"].items():
            for key, value in st.items():
                tensors[f"state.{idx}.{key}"] = value.detach().contiguous().cpu() if torch.is_tensor(value) else torch.tensor(value)
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        doc = {
            "state": asdict(state),
            "param_groups": opt["param_groups"],
            "scheduler": {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"},
            **meta,
        }
        (tmp / "state.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def load_checkpoint(path: Path, model, optimizer, scheduler) -> tuple[TrainState, dict]:  # noqa: ANN001
    import torch
    from safetensors.torch import load_file

    from followir.train.lora import load_adapter_state

    doc = json.loads((path / "state.json").read_text(encoding="utf-8"))
    try:
        load_adapter_state(model, load_file(str(path / "adapter.safetensors")))
    except ValueError as exc:  # name the checkpoint: the message alone does not say which
        raise DataError(f"cannot resume: {exc}", path) from None
    tensors = load_file(str(path / "optimizer.safetensors"))
    torch.set_rng_state(tensors.pop("rng.torch"))
    opt_state: dict[int, dict[str, object]] = {}
    for key, value in tensors.items():
        _, idx, name = key.split(".", 2)
        opt_state.setdefault(int(idx), {})[name] = value
    optimizer.load_state_dict({"state": opt_state, "param_groups": doc["param_groups"]})
    sched = dict(doc["scheduler"])
    sched["lr_lambdas"] = [None] * len(optimizer.param_groups)
    scheduler.load_state_dict(sched)
    return TrainState(**doc["state"]), doc


# -- the loop ---------------------------------------------------------------------------------
def _batches_of_epoch(
    n: int, seed: int, epoch: int, groups: Sequence[int] | None = None
) -> list[int]:
    """A seeded permutation of the examples.  With ``groups`` (one id per example), whole
    groups are permuted and kept together: the versions of one document under the original
    and the altered instruction then land in the same optimizer step, so each step's
    gradient carries the contrast (same text, opposite labels) the reranker must learn."""
    import torch

    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    if groups is None:
        return torch.randperm(n, generator=g).tolist()
    members: dict[int, list[int]] = {}
    for i, gid in enumerate(groups):
        members.setdefault(gid, []).append(i)
    keys = list(members)
    return [i for k in torch.randperm(len(keys), generator=g).tolist() for i in members[keys[k]]]


def micro_batches(chunk: Sequence[int], lengths: Sequence[int], size: int) -> list[list[int]]:
    """The examples of one optimizer step, sorted by prompt length and cut into micro-batches.

    Rows of a micro-batch are padded to its longest prompt; prompts here range over
    ~2.5x in length, so random micro-batches of 4 waste about a third of the compute on
    padding.  Grouping by length inside the step leaves the step's gradient (a sum over
    the same examples) unchanged.
    """
    ordered = sorted(chunk, key=lambda i: (lengths[i], i))
    return [ordered[k : k + size] for k in range(0, len(ordered), size)]


def resolve_precision(name: str, device: str) -> str:
    """``auto`` -> bf16 autocast on CUDA and on CPUs with native bf16 (AVX512-BF16/AMX),
    where it is ~1.2-2x faster than fp32; fp32 elsewhere (emulated bf16 is slower)."""
    if name != "auto":
        return name
    import torch

    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    try:
        return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
    except Exception:  # pragma: no cover - very old torch
        return "fp32"


def total_steps(n: int, cfg: TrainConfig) -> int:
    per_epoch = math.ceil(n / (cfg.batch_size * cfg.grad_accum))
    steps = per_epoch * cfg.epochs
    return min(steps, cfg.max_steps) if cfg.max_steps else steps


def train(
    encoded: Sequence[tuple[list[int], int]],
    model,  # noqa: ANN001 - a peft-wrapped causal LM
    answer_ids: tuple[int, int],
    pad_id: int,
    out: str | Path,
    cfg: TrainConfig,
    *,
    resume: bool = False,
    meta: dict | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    checkpoints: str | Path | None = None,
    groups: Sequence[int] | None = None,
    rank_keys: Sequence[int] | None = None,
    contrast_keys: Sequence[tuple[int, int, int]] | None = None,
    prefix_keys: Sequence[int] | None = None,
) -> TrainResult:
    """Run (or continue) training; checkpoints land in ``checkpoints`` (default
    ``out/checkpoints``).  ``groups`` keeps examples with the same group id in one step
    (see `_batches_of_epoch`); ``rank_keys`` (one id per query+instruction) is required
    when ``cfg.rank_weight > 0``, and ``contrast_keys`` (query, passage, instruction ids)
    when ``cfg.contrast_weight > 0``.  ``prefix_keys`` (one id per query + instruction) lets
    the rows of a step that share a prompt prefix run it once (``cfg.share_prefix``).

    ``stop_after`` ends this invocation after that many optimizer steps (with a checkpoint),
    so a long CPU run can be done in slices with ``resume=True``; the schedule still spans
    the full run.
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import get_cosine_schedule_with_warmup

    cfg.validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_root = Path(checkpoints) if checkpoints else out / CHECKPOINTS
    true_id, false_id = answer_ids
    n = len(encoded)
    if n == 0:
        raise DataError("no training examples")
    ranking = cfg.rank_weight > 0
    contrasting = cfg.contrast_weight > 0
    pairwise = ranking or contrasting  # terms that couple rows: keep graphs, one backward a step
    if ranking and (rank_keys is None or len(rank_keys) != n):
        raise FollowIRError("rank_weight > 0 needs one rank key (query+instruction id) per example")
    if contrasting and (contrast_keys is None or len(contrast_keys) != n):
        raise FollowIRError("contrast_weight > 0 needs (query, passage, instruction) ids per example")
    steps = total_steps(n, cfg)
    data_hash = _data_hash(encoded)
    meta = {**(meta or {}), "config": asdict(cfg), "data_hash": data_hash, "total_steps": steps}

    torch.manual_seed(cfg.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)
    state = TrainState()
    existing = list_checkpoints(ckpt_root)
    if resume and existing:
        state, doc = load_checkpoint(existing[-1], model, optimizer, scheduler)
        if doc.get("data_hash") != data_hash:
            raise DataError(
                f"cannot resume from {existing[-1]}: the training data changed since it was written"
            )
        old = doc.get("config", {})
        changed = [k for k in ("lr", "batch_size", "grad_accum", "epochs", "max_length", "loss",
                               "lora_r", "lora_alpha", "lora_targets", "seed", "rank_weight", "contrast_weight",
                               "warmup_ratio", "weight_decay") if old.get(k, getattr(TrainConfig, k)) != getattr(cfg, k)]
        if changed:
            raise FollowIRError(f"cannot resume from {existing[-1]}: settings changed: {changed}")
        log.info("resumed from %s (step %d of %d)", existing[-1], state.step, steps)
    elif existing and not resume:
        raise FollowIRError(f"{ckpt_root} already has checkpoints; pass --resume to continue or use a new --out")

    device = str(next(model.parameters()).device)
    precision = resolve_precision(cfg.precision, device)
    lengths = [len(ids) for ids, _ in encoded]
    log.info(
        "%d examples (prompt tokens mean %.0f, max %d), %d steps of %d, precision %s, %d torch threads",
        n, sum(lengths) / n, max(lengths), steps, cfg.batch_size * cfg.grad_accum, precision,
        torch.get_num_threads(),
    )

    model.train()
    per_step = cfg.batch_size * cfg.grad_accum
    order = _batches_of_epoch(n, cfg.seed, state.epoch, groups)
    bar = tqdm(total=steps, initial=state.step, desc="train", unit="step", disable=not progress)
    t0 = time.perf_counter()
    t_step = t0
    until = min(steps, state.step + stop_after) if stop_after else steps
    while state.step < until:
        if state.offset >= n:
            state.epoch += 1
            state.offset = 0
            order = _batches_of_epoch(n, cfg.seed, state.epoch, groups)
        chunk = order[state.offset : state.offset + per_step]
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        kept = []  # pairwise: (pointwise loss, margins, rows) of every micro-batch, graphs alive
        for idx, shared in step_units(chunk, lengths, cfg.batch_size, prefix_keys if cfg.share_prefix else None):
            with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=precision == "bf16"):
                rows_ids = [encoded[i][0] for i in idx]
                logits = shared_answer_logits(model, rows_ids, pad_id) if shared else None
                if logits is None:
                    logits = answer_logits(model, rows_ids, pad_id)
            loss = step_loss(logits, [encoded[i][1] for i in idx], true_id, false_id, cfg.loss)
            total += float(loss.detach())
            if pairwise:
                kept.append((loss, margins(logits, true_id, false_id), idx))
            else:
                (loss / len(chunk)).backward()
        parts = ""
        if pairwise:
            rows = [i for _, _, idx in kept for i in idx]
            objective = sum(loss for loss, _, _ in kept) / len(chunk)
            z = torch.cat([z for _, z, _ in kept])
            labels = [encoded[i][1] for i in rows]
            parts = f" (pointwise {total / len(chunk):.4f}"
            terms = []
            if ranking:
                terms.append(("rank", cfg.rank_weight, rank_loss(z, labels, [rank_keys[i] for i in rows])))  # type: ignore[index]
            if contrasting:
                terms.append(("contrast", cfg.contrast_weight,
                              contrast_loss(z, labels, [contrast_keys[i] for i in rows])))  # type: ignore[index]
            for name, weight, term in terms:
                if term is not None:
                    objective = objective + weight * term
                    total += weight * float(term.detach()) * len(chunk)
                    parts += f", {name} {float(term.detach()):.4f}"
            parts += ")"
            objective.backward()
        if cfg.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        optimizer.step()
        scheduler.step()
        release_free_memory()
        state.offset += len(chunk)
        state.step += 1
        mean = total / len(chunk)
        if not math.isfinite(mean):
            raise FollowIRError(f"loss became {mean} at step {state.step}; lower --lr")
        state.losses.append(mean)
        bar.update(1)
        bar.set_postfix(loss=f"{mean:.4f}")
        now = time.perf_counter()
        log.info(
            "step %d/%d epoch %d loss %.4f%s lr %.2e %.1f s/step",
            state.step, steps, state.epoch, mean, parts, scheduler.get_last_lr()[0], now - t_step,
        )
        t_step = now
        if state.step % cfg.save_every == 0 or state.step == until:
            state.seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            save_checkpoint(ckpt_root, model, optimizer, scheduler, state, meta)
            for old_ckpt in list_checkpoints(ckpt_root)[: -cfg.keep_checkpoints]:
                shutil.rmtree(old_ckpt, ignore_errors=True)
    bar.close()
    return TrainResult(out, state, steps)


# -- the whole recipe ---------------------------------------------------------------------------
def base_spec(base: str) -> str:
    """``llm:…`` as given; a bundled alias (``smollm2``); otherwise ``llm:NAME_OR_PATH``."""
    from followir.models.registry import aliases

    if base.startswith("llm:"):
        return base
    if base in aliases():
        spec = aliases()[base]
        if not spec.startswith("llm:"):
            raise FollowIRError(f"--base {base!r} is not a causal LM ({spec}); use an llm: model")
        return spec
    return f"llm:{base}"


def fine_tune(
    data: str | Path,
    base: str,
    out: str | Path,
    cfg: TrainConfig,
    *,
    resume: bool = False,
    leak_check: bool = True,
    progress: bool = True,
    stop_after: int | None = None,
    checkpoints: str | Path | None = None,
) -> TrainResult:
    """Read data, check for benchmark leakage, LoRA-train the scorer's model, save it merged
    into ``out`` so that ``llm:OUT`` scores with the same template and max length."""
    from followir.models.registry import load_model
    from followir.train import data as train_data
    from followir.train.lora import add_lora, parse_targets, save_merged

    cfg.validate()
    examples = train_data.read_train(data)
    if leak_check:
        train_data.leak_check(examples)
    spec = base_spec(base)
    options: dict[str, object] = {"max_length": cfg.max_length}
    if cfg.template:
        options["template"] = cfg.template
    scorer = load_model(spec, **options)
    encoded = train_data.encode_examples(examples, scorer)
    counts = [sum(1 for _, y in encoded if y == 1), sum(1 for _, y in encoded if y == 0)]
    log.info("%d examples (%d relevant, %d not), template %s", len(encoded), counts[0], counts[1], scorer.template.name)
    model = add_lora(
        scorer.model, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, parse_targets(cfg.lora_targets), seed=cfg.seed
    )
    meta = {"base": base, "base_fingerprint": scorer.fingerprint, "template": scorer.template.name}
    ids: dict[tuple[str, ...], int] = {}
    if cfg.rank_weight > 0 or cfg.contrast_weight > 0:  # a topic's rows together: every pair lands in a step
        groups = [ids.setdefault(("q", ex.query), len(ids)) for ex in examples]
    else:  # a passage's og/changed rows together: the contrast in each step's gradient
        groups = [ids.setdefault(("d", ex.query, ex.document), len(ids)) for ex in examples]
    rank_keys = [ids.setdefault(("qi", ex.query, ex.instruction), len(ids)) for ex in examples]
    contrast_keys = [
        (ids.setdefault(("q", ex.query), len(ids)), ids.setdefault(("p", ex.document), len(ids)),
         ids.setdefault(("i", ex.instruction), len(ids)))
        for ex in examples
    ]
    result = train(
        encoded, model, (scorer.true_id, scorer.false_id), scorer.tokenizer.pad_token_id, out, cfg,
        resume=resume, meta=meta, progress=progress, stop_after=stop_after, checkpoints=checkpoints,
        groups=groups, rank_keys=rank_keys, contrast_keys=contrast_keys, prefix_keys=rank_keys,
    )
    if result.state.step < result.total_steps:
        log.info("stopped at step %d of %d; rerun with --resume to continue", result.state.step, result.total_steps)
        return result
    model.eval()
    card = {
        "format": "followir-model/1",
        "family": "llm",
        "template": scorer.template.name,
        "max_length": cfg.max_length,
        "base": base,
        "base_fingerprint": scorer.fingerprint,
        "true_id": scorer.true_id,
        "false_id": scorer.false_id,
        "trained": {
            "data": str(data),
            "examples": len(encoded),
            "relevant": counts[0],
            "steps": result.state.step,
            "loss": cfg.loss,
            "rank_weight": cfg.rank_weight,
            "contrast_weight": cfg.contrast_weight,
            "final_loss": result.state.losses[-1] if result.state.losses else None,
            "config": asdict(cfg),
        },
    }
    save_merged(model, scorer.tokenizer, Path(out), card)
    with (Path(out) / "train-log.json").open("w", encoding="utf-8") as fh:
        json.dump({"losses": result.state.losses, "seconds": result.state.seconds, "steps": result.state.step}, fh)
    return result
