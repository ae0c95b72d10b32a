"""Where followir keeps caches and finds the shared test data."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$FOLLOWIR_CACHE`` or ``~/.cache/followir``: converted models, scores, indexes."""
    root = os.environ.get("FOLLOWIR_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "followir"


def shared_data() -> Path | None:
    """``$FOLLOWIR_SHARED_DATA`` or ``../shared/data`` beside the repo, if present."""
    env = os.environ.get("FOLLOWIR_SHARED_DATA")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    candidates += [p / "shared" / "data" for p in here.parents]
    candidates += [Path.cwd().parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    return None
