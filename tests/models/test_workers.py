import threading
import time

import pytest

from followir.models.workers import ordered_map, split_threads, worker_plan


def test_ordered_map_keeps_input_order_when_later_items_finish_first():
    def slow_first(x):
        time.sleep(0.05 if x == 0 else 0.0)
        return x * 10, threading.current_thread().name

    out = list(ordered_map(slow_first, range(6), workers=2))
    assert [v for v, _ in out] == [0, 10, 20, 30, 40, 50]
    assert any(name.startswith("followir-worker") for _, name in out)


def test_ordered_map_reads_its_input_lazily():
    """At most 2 x workers items are taken ahead of the results: a large corpus is never
    tokenized all at once."""
    taken = []

    def items():
        for i in range(100):
            taken.append(i)
            yield i

    it = ordered_map(lambda x: x, items(), workers=2)
    assert next(it) == 0
    assert len(taken) <= 5
    it.close()


def test_ordered_map_passes_a_worker_error_on():
    def boom(x):
        if x == 3:
            raise ValueError("bad batch 3")
        return x

    with pytest.raises(ValueError, match="bad batch 3"):
        list(ordered_map(boom, range(8), workers=2))
    assert list(ordered_map(lambda x: x + 1, [1, 2], workers=1)) == [2, 3]


def test_split_threads_shares_and_restores_torch_threads():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        with split_threads(2) as share:
            assert share == 2 and torch.get_num_threads() == 2
        with split_threads(8) as share:
            assert share == 1
        assert torch.get_num_threads() == 4
    finally:
        torch.set_num_threads(before)


def test_worker_plan_keeps_every_thread_when_jobs_are_fewer_than_workers():
    """One job on two workers would run on one core and leave the other idle (measured in
    bench run 4: the causal LM at 0.6x its speed), so it gets one worker with all threads."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with worker_plan(2, jobs=1) as workers:
            assert workers == 1 and torch.get_num_threads() == 2
        with worker_plan(2, jobs=5) as workers:
            assert workers == 2 and torch.get_num_threads() == 1
        with worker_plan(1, jobs=5) as workers:
            assert workers == 1 and torch.get_num_threads() == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
