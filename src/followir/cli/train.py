"""`followir train DATA.jsonl --base SPEC_OR_PATH --out DIR`: LoRA-tune the pointwise reranker.

Defaults are the paper's (effective batch 32 = --batch-size 4 x --grad-accum 8, cosine,
lr 3e-5, max length 2048, LoRA r 8 / alpha 16 on q,k,v,o, 8 epochs); the flags override
them for CPU runs.  DIR ends up a merged model that `llm:DIR` loads and scores.
"""

from __future__ import annotations

from pathlib import Path

import typer

from followir.cli.app import app


@app.command()
def train(
    data: Path = typer.Argument(..., help="training JSONL (followir filter output or FollowIR-train layout)"),
    base: str = typer.Option(..., "--base", "-b", help="llm:NAME_OR_PATH, smollm2, or a model folder"),
    out: Path = typer.Option(..., "--out", "-o", help="folder for checkpoints and the merged model"),
    epochs: int = typer.Option(8),
    lr: float = typer.Option(3e-5),
    batch_size: int = typer.Option(4, help="examples per forward pass"),
    grad_accum: int = typer.Option(8, help="forward passes per optimizer step"),
    max_length: int = typer.Option(2048, help="prompt tokens (documents truncated past it)"),
    lora_r: int = typer.Option(8),
    lora_alpha: int = typer.Option(16),
    lora_dropout: float = typer.Option(0.05),
    lora_targets: str = typer.Option("q,k,v,o", help="q,k,v,o | all-linear | module names"),
    max_steps: int = typer.Option(0, help="stop after N optimizer steps (0 = epochs decide)"),
    save_every: int = typer.Option(50, help="checkpoint every N optimizer steps"),
    warmup_ratio: float = typer.Option(0.03),
    loss: str = typer.Option("binary", help="binary: CE over {true,false} logits; vocab: full-vocab CE"),
    rank_weight: float = typer.Option(
        0.0,
        help="weight of a pairwise ranking term between rows of one query+instruction "
        "(steps then hold whole topics; 0 = pointwise only)",
    ),
    contrast_weight: float = typer.Option(
        0.0,
        help="weight of a difference-in-differences term: a passage whose label drops from one "
        "instruction to the other must lose more score than one whose label stays (steps hold whole topics)",
    ),
    template: str | None = typer.Option(None, help="prompt template (default: the scorer's)"),
    seed: int = typer.Option(0),
    precision: str = typer.Option("auto", help="auto (bf16 autocast where the hardware has it) | bf16 | fp32"),
    share_prefix: bool = typer.Option(
        True, help="rows of one query+instruction in a step run their common prompt prefix once"
    ),
    checkpoints: Path | None = typer.Option(None, help="checkpoint folder (default OUT/checkpoints)"),
    resume: bool = typer.Option(False, "--resume", help="continue from the last checkpoint in --out"),
    stop_after: int = typer.Option(0, help="end this run after N more steps (resume later); 0 = run to the end"),
) -> None:
    """Fine-tune with LoRA, then save the merged model to --out."""
    import logging

    from followir.train.loop import TrainConfig, fine_tune

    # per-step loss and s/step lines: a long run under nohup is watched through its log
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    cfg = TrainConfig(
        epochs=epochs, lr=lr, batch_size=batch_size, grad_accum=grad_accum, max_length=max_length,
        lora_r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout, lora_targets=lora_targets,
        max_steps=max_steps or None, save_every=save_every, warmup_ratio=warmup_ratio, loss=loss, rank_weight=rank_weight,
        contrast_weight=contrast_weight, template=template, seed=seed, precision=precision,
        share_prefix=share_prefix,
    )
    result = fine_tune(
        data, base, out, cfg, resume=resume, stop_after=stop_after or None, checkpoints=checkpoints
    )
    losses = result.state.losses
    first = f"{losses[0]:.4f}" if losses else "-"
    last = f"{losses[-1]:.4f}" if losses else "-"
    if result.state.step < result.total_steps:
        typer.echo(f"{result.state.step}/{result.total_steps} steps, loss {last}; continue with --resume")
        return
    typer.echo(
        f"{result.state.step}/{result.total_steps} steps, loss {first} -> {last}; "
        f"merged model in {out} (score it with llm:{out})"
    )
