"""The local transformers generator on a tiny random Llama: sampling is seeded and a
useless answer is retried with new seeds, then recorded as unparseable."""

import json
import os

import pytest

from followir.models.generators import GenerationCache, Sampling, TransformersGenerator
from followir.synth.generate import synthesize
from followir.synth.pairs import SynthPair

pytestmark = pytest.mark.slow


def test_hf_generator_is_seeded_and_failures_are_recorded(tmp_path):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from tests.models.tiny import build_causal_lm

    gen = TransformersGenerator(str(build_causal_lm(tmp_path / "lm")))
    sampling = Sampling(seed=3, temperature=1.0, max_new_tokens=6)
    assert gen.generate("Write documents.", sampling) == gen.generate("Write documents.", sampling)
    out = tmp_path / "docs.jsonl"
    stats = synthesize([SynthPair("p:1", "q", "i")], gen, out, cache=GenerationCache(tmp_path / "c"),
                       retries=1, progress=False, sampling=sampling)
    (row,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert stats.unparseable == 1 and row["error"] == "unparseable" and row["generator"] == gen.name
    assert len(list((tmp_path / "c").rglob("*.json"))) == 2  # one cached answer per seed tried
