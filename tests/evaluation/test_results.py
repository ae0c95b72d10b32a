"""Result files are strict JSON: an undefined value is written as null and read back as NaN."""

import json
import math

import pytest

from followir.evaluation.results import EvalResult, MeasureResult


def test_nan_is_written_as_null_and_read_back_as_nan(tmp_path):
    result = EvalResult(
        model="m",
        benchmark="b",
        measures={"p-MRR": MeasureResult(float("nan"), {"q1": 0.5, "q2": float("nan")}, None, None)},
        main_measure="p-MRR",
        timings={"score": float("inf")},
    )
    path = result.save(tmp_path / "r.json")
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    raw = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert raw["measures"]["p-MRR"]["value"] is None
    assert raw["measures"]["p-MRR"]["per_query"] == {"q1": 0.5, "q2": None}
    back = EvalResult.load(path)
    m = back.measures["p-MRR"]
    assert math.isnan(m.value) and m.per_query["q1"] == 0.5 and math.isnan(m.per_query["q2"])


def test_measure_result_of_is_the_mean_with_a_bootstrap_ci():
    from followir.metrics.stats import bootstrap_ci

    per_query = {"q2": 0.5, "q1": 0.25, "q3": 1.0}
    m = MeasureResult.of(per_query, n_boot=200, seed=3)
    ci = bootstrap_ci(per_query, n_boot=200, seed=3)
    assert m.value == pytest.approx(1.75 / 3)
    assert (m.ci_low, m.ci_high) == (ci.low, ci.high)
    assert list(m.per_query) == ["q1", "q2", "q3"]  # sorted: stable result files
    assert MeasureResult.of(per_query, n_boot=200, seed=3, value=0.9).value == 0.9  # e.g. a non-mean aggregate
    plain = MeasureResult.of(per_query, n_boot=0, seed=3)
    assert plain.ci_low is None and plain.ci_high is None
    assert math.isnan(MeasureResult.of({}, n_boot=0, seed=0).value)
