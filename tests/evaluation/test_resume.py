"""Resumability: a SIGKILLed evaluation resumes from the score cache, and a damaged cache
fails loudly instead of feeding wrong scores into a result."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from followir.data.plain import write_plain
from followir.errors import DataError
from followir.evaluation.cache import ScoreCache
from followir.evaluation.evaluate import evaluate_model
from followir.evaluation.results import EvalResult
from tests.conftest import make_tiny_benchmark
from tests.evaluation.scorers import CountingScorer

REPO = Path(__file__).resolve().parents[2]
TOTAL_PAIRS = 16  # 2 queries x 4 pool docs x 2 instructions


def _rows(cache: Path) -> set[str]:
    if not cache.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=5) as db:
            return {k for (k,) in db.execute("SELECT key FROM scores")}
    except sqlite3.OperationalError:  # table not created yet
        return set()


def _cli(bench_dir: Path, out: Path, log: Path, sleep: float) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "FOLLOWIR_TEST_SCORER_LOG": str(log),
        "FOLLOWIR_TEST_SCORER_SLEEP": str(sleep),
        "OMP_NUM_THREADS": "1",
    }
    cmd = [
        sys.executable, "-c", "from followir.cli.app import main; main()",
        "evaluate", str(bench_dir), "-m", "test-counting", "--plugin", "tests.evaluation.scorers",
        "--out", str(out), "--batch-size", "2", "--n-boot", "100", "--no-progress",
    ]
    return subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _logged(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [k for line in log.read_text().splitlines() for k in json.loads(line)]


@pytest.mark.slow
def test_sigkill_then_resume_recomputes_only_missing_chunks(tmp_path):
    bench_dir = write_plain(make_tiny_benchmark(), tmp_path / "tiny")
    out = tmp_path / "out"
    cache = out / "cache.sqlite"

    proc = _cli(bench_dir, out, tmp_path / "run1.log", sleep=0.4)
    deadline = time.monotonic() + 60
    while len(_rows(cache)) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    committed = _rows(cache)
    assert 4 <= len(committed) < TOTAL_PAIRS, "the kill must land mid-run"
    assert not (out / "tiny" / "test-counting.json").exists()

    proc = _cli(bench_dir, out, tmp_path / "run2.log", sleep=0.0)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr.decode()
    rescored = _logged(tmp_path / "run2.log")
    assert not set(rescored) & committed, "finished chunks were scored again"
    assert len(rescored) == len(set(rescored)) == TOTAL_PAIRS - len(committed)
    assert set(rescored) | committed == _rows(cache)
    assert len(_rows(cache)) == TOTAL_PAIRS

    resumed = EvalResult.load(out / "tiny" / "test-counting.json")
    assert resumed.counts == {
        "pairs_scored": TOTAL_PAIRS - len(committed),
        "pairs_cached": len(committed),
    }
    bench = make_tiny_benchmark()
    bench.name = "tiny"
    straight = evaluate_model(bench, CountingScorer(), tmp_path / "fresh", n_boot=100, write=False)
    assert resumed.measures == straight.measures


def test_garbage_cache_file_is_refused(tiny_benchmark, tmp_path):
    bad = tmp_path / "cache.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataError, match=r"cache.sqlite: score cache is unreadable or corrupt"):
        evaluate_model(tiny_benchmark, CountingScorer(), tmp_path, cache=bad)


def test_truncated_cache_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    with ScoreCache(path) as cache:
        cache.put_many({f"k{i:05d}" + "x" * 200: float(i) for i in range(3000)})
    size = path.stat().st_size
    assert size > 100_000
    with path.open("r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(DataError, match="corrupt"):
        ScoreCache(path)


def test_non_numeric_cached_value_is_refused(tiny_benchmark, tmp_path):
    path = tmp_path / "c.sqlite"
    scorer = CountingScorer()
    evaluate_model(tiny_benchmark, scorer, tmp_path / "a", cache=path, write=False)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE scores SET score = 'oops' WHERE rowid = 1")
    with pytest.raises(DataError, match="not a finite score"):
        evaluate_model(tiny_benchmark, CountingScorer(), tmp_path / "b", cache=path, write=False)
