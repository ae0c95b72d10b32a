"""Generation against a fake OpenAI-compatible server on 127.0.0.1 returning messy text."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from followir.errors import DataError
from followir.models.generators import GenerationCache, OpenAIChatGenerator
from followir.synth.generate import synthesize
from followir.synth.pairs import SynthPair
from followir.synth.prompts import PROMPT_ID, build_doc_prompt, has_negation

MESSY = (
    "Sure! Here you go.\n\n**Relevant Option 1:**\nThe Cali cartel shipped cocaine.\n\n"
    "Relevant Option 2: Colombian police named the cartel. Colombian police named the cartel.\n"
    "### Not Relevant\n1. Drug trade is vague.\n"
)
GARBAGE = "I am sorry, I cannot write documents."


class FakeServer:
    """Answers chat completions; the first request gets HTTP 503 to exercise retries."""

    def __init__(self):
        self.requests: list[dict] = []
        self.auth: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.auth.append(self.headers.get("Authorization"))
                if len(server.requests) == 1:
                    self.send_response(503)
                    self.end_headers()
                    return
                prompt = body["messages"][0]["content"]
                text = GARBAGE if "unanswerable" in prompt else MESSY
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data.encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


PAIRS = [
    SynthPair("t:1", "cartels", "Relevant documents name the cartel. Vague references are not relevant."),
    SynthPair("t:2", "unanswerable topic", "Relevant documents describe it."),
]


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_generate_parse_retry_cache_and_resume(server, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    gen = OpenAIChatGenerator(server.url, model="fake-model", key_env="FAKE_KEY", backoff=0.01)
    cache = GenerationCache(tmp_path / "cache")
    out = tmp_path / "docs.jsonl"
    stats = synthesize(PAIRS, gen, out, cache=cache, retries=1, progress=False)

    rows = _rows(out)
    docs = [r for r in rows if "error" not in r]
    assert [(r["label"], r["document"]) for r in docs] == [
        (1, "The Cali cartel shipped cocaine."),
        (1, "Colombian police named the cartel."),
        (0, "Drug trade is vague."),
    ]
    assert {r["prompt_id"] for r in docs} == {PROMPT_ID}
    assert {r["generator"] for r in docs} == {f"openai:fake-model@{server.url}"}
    assert {r["seed"] for r in docs} == {0}
    (failed,) = [r for r in rows if "error" in r]
    assert failed["pair_id"] == "t:2" and failed["error"] == "unparseable" and failed["raw"] == GARBAGE
    assert (stats.documents, stats.unparseable) == (3, 1)
    # 1 refused (503) + 1 for t:1 + 2 seeds for t:2
    assert len(server.requests) == 4
    assert [r["seed"] for r in server.requests[2:]] == [0, 1]
    assert set(server.auth) == {"Bearer sk-test"}
    assert server.requests[1]["model"] == "fake-model"
    assert server.requests[1]["messages"][0]["content"] == build_doc_prompt(PAIRS[0].query, PAIRS[0].instruction)

    # resume: nothing is asked again, nothing is written twice
    stats = synthesize(PAIRS, gen, out, cache=cache, retries=1, progress=False)
    assert stats.skipped == 2 and len(server.requests) == 4 and len(_rows(out)) == len(rows)

    # a fresh output with the same cache is served from disk
    out2 = tmp_path / "again.jsonl"
    stats = synthesize(PAIRS, gen, out2, cache=cache, retries=1, progress=False)
    assert len(server.requests) == 4 and stats.cached == 3
    assert _rows(out2) == rows


def test_resume_refuses_a_damaged_output(tmp_path, server):
    out = tmp_path / "docs.jsonl"
    out.write_text('{"pair_id": "t:1"}\n{"pair_id": "t:2", "doc')
    gen = OpenAIChatGenerator(server.url, "gpt-3.5-turbo-1106", backoff=0.01)
    with pytest.raises(DataError, match=r"docs.jsonl:2: unreadable line"):
        synthesize(PAIRS, gen, out, progress=False)


def test_prompt_follows_the_negation_rule():
    assert has_negation("Vague references are not relevant.")
    assert not has_negation("Relevant documents name the cartel.")
    with_neg = build_doc_prompt("q", "Documents about sports are not relevant.")
    without = build_doc_prompt("q", "Relevant documents name the cartel.")
    assert "fall under what the instruction says is not relevant" in with_neg
    assert "slightly off-topic" in without and "slightly off-topic" not in with_neg
    assert "Query: q" in without and "Relevant documents name the cartel." in without
