"""Bootstrap CIs and paired tests: determinism, hand-derivable cases, clear refusals."""

from __future__ import annotations

import math

import pytest

from followir.errors import DataError
from followir.metrics.stats import (
    BootstrapCI,
    PairedTest,
    bootstrap_ci,
    paired_bootstrap,
    randomization_test,
)


def test_ci_is_deterministic_given_seed_and_ignores_dict_order():
    vals = {f"q{i}": (i * 37 % 11) / 10 for i in range(30)}
    reordered = dict(reversed(list(vals.items())))
    a = bootstrap_ci(vals, n_boot=500, seed=3)
    assert a == bootstrap_ci(reordered, n_boot=500, seed=3)
    assert isinstance(a, BootstrapCI)
    assert a.low <= a.mean <= a.high
    assert a.mean == pytest.approx(sum(vals.values()) / 30)
    assert bootstrap_ci(vals, n_boot=500, seed=4) != a


def test_ci_of_two_values_by_hand():
    # resampled means of [0, 1] are 0 (p=1/4), 0.5 (1/2), 1 (1/4): the 2.5th and 97.5th
    # percentiles are 0 and 1.
    ci = bootstrap_ci([0.0, 1.0], n_boot=4000, seed=0)
    assert (ci.low, ci.mean, ci.high) == (0.0, 0.5, 1.0)


def test_ci_of_constant_values_has_zero_width_and_empty_is_nan():
    ci = bootstrap_ci({"a": 0.3, "b": 0.3, "c": 0.3})
    assert ci.low == pytest.approx(0.3) and ci.high == pytest.approx(0.3)
    empty = bootstrap_ci({})
    assert math.isnan(empty.mean) and empty.n_queries == 0


def test_ci_refuses_nan():
    with pytest.raises(DataError, match="NaN"):
        bootstrap_ci([0.1, float("nan")])


def test_paired_tests_refuse_mismatched_queries():
    with pytest.raises(DataError, match=r"only in A.*'q3'.*only in B.*'q4'"):
        paired_bootstrap({"q1": 1.0, "q3": 0.0}, {"q1": 1.0, "q4": 0.0})
    with pytest.raises(DataError, match="same queries"):
        randomization_test({"q1": 1.0}, {"q2": 1.0})


def test_identical_models_are_not_different():
    a = {f"q{i}": i / 10 for i in range(10)}
    for test in (paired_bootstrap(a, a), randomization_test(a, a)):
        assert isinstance(test, PairedTest)
        assert test.diff == 0.0 and test.p_value == 1.0


def test_randomization_p_value_by_hand():
    # five queries, each +1 for A: only the all-+ and all-- sign flips reach |mean| = 1,
    # so the exact p-value is 2 / 2**5 = 0.0625.
    a = {f"q{i}": 1.0 for i in range(5)}
    b = {f"q{i}": 0.0 for i in range(5)}
    t = randomization_test(a, b, n_samples=40_000, seed=1)
    assert t.diff == 1.0 and t.mean_a == 1.0 and t.mean_b == 0.0
    assert t.p_value == pytest.approx(0.0625, abs=0.006)
    assert t == randomization_test(a, b, n_samples=40_000, seed=1)


def test_paired_bootstrap_sees_a_consistent_gain():
    b = {f"q{i}": (i % 7) / 10 for i in range(40)}
    a = {q: v + 0.05 + (0.01 if i % 2 else -0.01) for i, (q, v) in enumerate(b.items())}
    t = paired_bootstrap(a, b, n_boot=1000, seed=0)
    assert t.diff == pytest.approx(0.05)
    assert t.ci_low > 0 and t.ci_high < 0.1
    assert t.p_value < 0.01
    assert paired_bootstrap(a, b, n_boot=1000, seed=0) == t
