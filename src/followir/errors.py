"""Errors that name what is wrong and where, so a user can fix their input."""

from __future__ import annotations

from pathlib import Path


class FollowIRError(Exception):
    """Base class of every error followir raises on purpose."""


class DataError(FollowIRError, ValueError):
    """Malformed or inconsistent input data, located by file and line (or by id)."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        super().__init__(where + message)


class SpecError(FollowIRError, ValueError):
    """An unknown model, measure or benchmark spec; the message lists the valid choices."""


class MissingDependency(FollowIRError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"{package!r} is required for this feature: pip install 'followir[{extra}]'"
        )


def require(module: str, extra: str):
    """Import an optional module or raise MissingDependency naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependency(module, extra) from exc
