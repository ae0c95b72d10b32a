from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from followir.analysis.generators import (
    KEYWORDS_PROMPT,
    PLACEHOLDER,
    SHORT_PROMPT,
    CachedGenerator,
    OfflineGenerator,
    OpenAIChatGenerator,
    TransformersGenerator,
    fill,
    load_generator,
    parse_keywords,
    parse_short,
)
from followir.errors import DataError, SpecError


def test_paper_prompts_are_quoted_with_their_placeholder():
    assert SHORT_PROMPT.count(PLACEHOLDER) == 1 and KEYWORDS_PROMPT.count(PLACEHOLDER) == 1
    assert "abstract command" in SHORT_PROMPT and 'Use the word "question".' in SHORT_PROMPT
    assert 'Keywords: ["Quora", "duplicated"]' in KEYWORDS_PROMPT
    filled = fill(KEYWORDS_PROMPT, "Find  a\nPubMed paper.")
    assert "Instruction: Find a PubMed paper.\nKeywords (either one" in filled


def test_parse_answers():
    assert parse_keywords('Keywords: ["news", "crashworthiness"]\n') == "news crashworthiness"
    assert parse_keywords("news, vehicles") == "news vehicles"
    assert parse_short('Abstract Command: "Find news articles that answer this question."') == (
        "Find news articles that answer this question."
    )
    assert parse_short("\n\nRetrieve a news story for the question.\nMore text") == (
        "Retrieve a news story for the question."
    )


class Echo:
    name = "echo"

    def __init__(self):
        self.calls = 0

    def generate(self, prompt: str) -> str:
        self.calls += 1
        return prompt[-5:]


def test_cached_generator_pays_once_and_persists(tmp_path):
    inner = Echo()
    gen = CachedGenerator(inner, tmp_path / "gen.json")
    assert gen.generate("hello world") == "world"
    assert gen.generate("hello world") == "world"
    assert inner.calls == 1
    again = CachedGenerator(Echo(), tmp_path / "gen.json")  # a new process, same file
    assert again.generate("hello world") == "world" and again.inner.calls == 0
    stored = json.loads((tmp_path / "gen.json").read_text())
    [entry] = stored.values()
    assert entry == {"generator": "echo", "prompt": "hello world", "output": "world"}
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="bad.json"):
        CachedGenerator(Echo(), tmp_path / "bad.json")


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
    finally:
        server.shutdown()


def test_generator_specs():
    assert isinstance(load_generator(None), OfflineGenerator)
    assert isinstance(load_generator("hf:/some/path?gguf_file=m.gguf"), TransformersGenerator)
    with pytest.raises(SpecError, match="model=NAME"):
        load_generator("http://localhost:1/v1")
    with pytest.raises(SpecError, match="offline"):
        load_generator("gpt4")
