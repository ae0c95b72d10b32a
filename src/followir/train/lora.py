"""LoRA adapters on the reranker's causal LM, and the merged model ``llm:DIR`` loads.

Paper defaults (FollowIR-7B): r 8, alpha 16 on the attention projections q, k, v, o.  For a
small model trained on little data, ``--lora-targets all-linear`` (every linear layer of the
decoder, peft's own keyword) learns far more per step; the recipe uses it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

PAPER_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
MODEL_CARD = "followir-model.json"


def parse_targets(value: str | None) -> list[str] | str:
    """``q,k,v,o`` (short names expand to ``*_proj``), ``all-linear``, or full module names."""
    if not value:
        return list(PAPER_TARGETS)
    if value.strip() == "all-linear":
        return "all-linear"
    out = []
    for name in (v.strip() for v in value.split(",") if v.strip()):
        out.append(f"{name}_proj" if name in {"q", "k", "v", "o", "gate", "up", "down"} else name)
    return out


def add_lora(  # noqa: ANN201
    model,  # noqa: ANN001
    r: int = 8,
    alpha: int = 16,
    dropout: float = 0.05,
    targets: list[str] | str = PAPER_TARGETS,
    seed: int = 0,
):
    """Wrap ``model`` with trainable LoRA adapters (base weights frozen).

    The adapters' random init is drawn under ``seed`` so two runs with the same settings
    start from the same weights (and a resumed run matches an uninterrupted one)."""
    import torch

    from followir.errors import SpecError, require

    peft = require("peft", "train")
    config = peft.LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=targets if isinstance(targets, str) else list(targets),
        bias="none",
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(seed)
    try:
        wrapped = peft.get_peft_model(model, config)
    except ValueError as exc:  # peft names the missing modules
        raise SpecError(f"--lora-targets {targets!r} do not match this model: {exc}") from None
    trainable = sum(p.numel() for p in wrapped.parameters() if p.requires_grad)
    total = sum(p.numel() for p in wrapped.parameters())
    log.info("LoRA r=%d alpha=%d on %s: %d trainable of %d parameters", r, alpha, targets, trainable, total)
    return wrapped


def adapter_state(model) -> dict:  # noqa: ANN001
    """The trainable LoRA weights only (what a checkpoint needs to store)."""
    from peft import get_peft_model_state_dict

    return {k: v.detach().contiguous().cpu() for k, v in get_peft_model_state_dict(model).items()}


def load_adapter_state(model, state: dict) -> None:  # noqa: ANN001
    from peft import set_peft_model_state_dict

    result = set_peft_model_state_dict(model, state)
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise ValueError(f"checkpoint adapter keys do not match the model: {unexpected[:3]}")


WEIGHT_FILES = ("*.safetensors", "*.safetensors.index.json", "pytorch_model*.bin", "pytorch_model*.bin.index.json")


def save_merged(model, tokenizer, out: Path, card: dict[str, object]) -> Path:  # noqa: ANN001
    """merge_and_unload + tokenizer + ``followir-model.json`` into ``out`` itself.

    Files are written to a temp folder inside ``out`` and moved into place one by one,
    the model card last, so ``llm:OUT`` never loads a half-written model: until the card
    is there the folder is not a finished followir model.
    """
    import shutil
    import tempfile

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_CARD).unlink(missing_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".merged-", dir=out))
    try:
        merged = model.merge_and_unload()
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        new = {f.name for f in tmp.iterdir()}
        for f in sorted(tmp.iterdir()):
            f.replace(out / f.name)
        # weights of an earlier save into the same folder (other shard counts or formats)
        # would otherwise sit beside the new ones and could be loaded instead of them
        for pattern in WEIGHT_FILES:
            for stale in out.glob(pattern):
                if stale.name not in new:
                    stale.unlink()
        card_tmp = out / (MODEL_CARD + ".tmp")
        card_tmp.write_text(json.dumps(card, indent=1), encoding="utf-8")
        card_tmp.replace(out / MODEL_CARD)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
