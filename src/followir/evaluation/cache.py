"""An on-disk score cache shared by every model family.

SQLite because it is in the standard library, survives a SIGKILL mid-write (each chunk is
one transaction) and lets several processes append to one file.  A key hashes the model
fingerprint with the exact query, instruction and document text, so changing any of them
— or any setting that changes scores — can never return a stale value.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from followir.errors import DataError
from followir.models.base import Pair


def pair_key(fingerprint: str, pair: Pair) -> str:
    h = hashlib.sha256()
    for part in (fingerprint, pair.query, pair.instruction, pair.doc_id, pair.doc_text):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


class ScoreCache:
    """``key -> float`` in a SQLite file; `get_many` / `put_many` work in bulk."""

    def __init__(self, path: str | Path, check: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=60)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, score REAL NOT NULL)"
            )
            self._db.commit()
            if check:
                # A damaged file must fail loudly, never feed wrong scores into a result.
                status = self._db.execute("PRAGMA quick_check").fetchone()[0]
                if status != "ok":
                    raise sqlite3.DatabaseError(status)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None

    def _corrupt(self, exc: Exception) -> Exception:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return exc  # contention, not damage: let the caller see sqlite's own error
        return DataError(
            f"score cache is unreadable or corrupt ({exc}); delete it to rescore", self.path
        )

    def get_many(self, keys: Iterable[str]) -> dict[str, float]:
        keys = list(keys)
        out: dict[str, float] = {}
        try:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT key, score FROM scores WHERE key IN ({marks})", part
                )
                for k, s in rows:
                    if not isinstance(s, (int, float)) or not math.isfinite(s):
                        raise sqlite3.DatabaseError(f"entry {k} holds {s!r}, not a finite score")
                    out[k] = float(s)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None
        return out

    def put_many(self, items: Mapping[str, float]) -> None:
        """Store scores in one transaction: either the whole chunk is kept or none of it."""
        for k, v in items.items():
            if not math.isfinite(v):
                raise ValueError(f"refusing to cache non-finite score {v!r} (key {k})")
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO scores (key, score) VALUES (?, ?)",
                    list(items.items()),
                )
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM scores").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ScoreCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
