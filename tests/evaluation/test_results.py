"""Result files are strict JSON: an undefined value is written as null and read back as NaN."""

import json
import math

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
