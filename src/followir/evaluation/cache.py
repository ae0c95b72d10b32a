"""An on-disk score cache shared by every model family.

SQLite because it is in the standard library, survives a SIGKILL mid-write (each chunk is
one transaction) and lets several processes append to one file.  A key hashes the model
fingerprint with the exact query, instruction and document text, so changing any of them
— or any setting that changes scores — can never return a stale value.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from followir.models.base import Pair


def pair_key(fingerprint: str, pair: Pair) -> str:
    h = hashlib.sha256()
    for part in (fingerprint, pair.query, pair.instruction, pair.doc_id, pair.doc_text):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


class ScoreCache:
    """``key -> float`` in a SQLite file; `get_many` / `put_many` work in bulk."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, score REAL NOT NULL)"
        )
        self._db.commit()

    def get_many(self, keys: Iterable[str]) -> dict[str, float]:
        keys = list(keys)
        out: dict[str, float] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(f"SELECT key, score FROM scores WHERE key IN ({marks})", part)
            out.update({k: float(s) for k, s in rows})
        return out

    def put_many(self, items: Mapping[str, float]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO scores (key, score) VALUES (?, ?)", list(items.items())
            )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM scores").fetchone()[0])

    def close(self) -> None:
        self._db.close()
