"""The API families against a small OpenAI-compatible server started on localhost."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from followir.errors import SpecError
from followir.models.api import APIEmbedScorer, APILLMScorer, answer_probability
from followir.models.base import Pair
from followir.models.http import APIError, OpenAIClient
from followir.models.registry import load_model


def _embed(text: str) -> list[float]:
    """A bag-of-words vector over a tiny fixed vocabulary: deterministic and text-dependent."""
    vocab = ["solar", "wind", "children", "adults", "europe", "asia", "cost", "policy"]
    words = text.lower().split()
    return [float(sum(w.strip(".,:") == v for w in words)) + 0.01 * i for i, v in enumerate(vocab)]


class FakeAPI(BaseHTTPRequestHandler):
    state: dict[str, int] = {}

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, code: int, body: dict, headers: dict | None = None):
        data = json.dumps(body).encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model = payload.get("model")
        self.state["requests"] = self.state.get("requests", 0) + 1
        if model == "needs-key" and self.headers.get("Authorization") != "Bearer sekrit":
            return self._send(401, {"error": "bad key"})
        if model == "flaky" and self.state.get("flaky", 0) < 2:
            self.state["flaky"] = self.state.get("flaky", 0) + 1
            return self._send(429, {"error": "slow down"}, {"Retry-After": "0"})
        if self.path == "/v1/embeddings":
            data = [{"index": i, "embedding": _embed(t)} for i, t in enumerate(payload["input"])]
            return self._send(200, {"data": data[::-1]})  # out of order on purpose
        if self.path == "/v1/chat/completions":
            text = payload["messages"][0]["content"]
            query_line = text.split("Query:")[1].split("\n")[0].lower().split()
            doc_line = text.split("Document:")[1].split("\n")[0].lower().split()
            overlap = len(set(query_line) & set(doc_line))
            lt = -1.0 / (1 + overlap)
            top = [{"token": " true", "logprob": lt}, {"token": "False", "logprob": -0.7}]
            return self._send(
                200,
                {"choices": [{"message": {"content": "true"}, "logprobs": {"content": [{"top_logprobs": top}]}}]},
            )
        return self._send(404, {"error": "no such route"})


@pytest.fixture()
def server():
    FakeAPI.state = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeAPI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


DOC = "Solar and wind policy in Europe"


def test_embed_instruction_reaches_model(server):
    scorer = load_model(f"api-embed:fake@{server}")
    a, b = scorer.score(
        [Pair("energy", "about solar", "d1", DOC), Pair("energy", "about asia cost", "d1", DOC)]
    )
    assert a != b


def test_embed_matches_cosine_and_embeds_docs_once(server):
    scorer = APIEmbedScorer(f"fake@{server}")
    pairs = [Pair("wind", "europe", "d1", DOC), Pair("wind", "asia", "d2", "Asia wind cost")]
    scores = scorer.score(pairs)
    import numpy as np

    for p, s in zip(pairs, scores, strict=True):
        q, d = np.array(_embed(f"{p.instruction} {p.query}")), np.array(_embed(p.doc_text))
        assert s == pytest.approx(q @ d / np.linalg.norm(q) / np.linalg.norm(d), rel=1e-5)
    before = FakeAPI.state["requests"]
    scorer.score([Pair("wind", "policy", "d1", DOC)])
    assert FakeAPI.state["requests"] == before + 1  # only the new query, not the document


def test_llm_logprob_score_and_instruction(server):
    scorer = load_model(f"api-llm:fake@{server}?workers=2")
    s1, s2 = scorer.score(
        [Pair("wind", "europe policy solar", "d1", DOC), Pair("wind", "nothing shared", "d1", DOC)]
    )
    assert s1 > s2
    # overlap words: wind, europe, policy, solar -> logit(true) = -1/5
    expected = math.exp(-0.2) / (math.exp(-0.2) + math.exp(-0.7))
    assert s1 == pytest.approx(expected)


def test_retry_after_429(server):
    scorer = APILLMScorer(f"flaky@{server}", workers=1)
    assert 0 < scorer.score([Pair("q", "i", "d", "text")])[0] < 1
    assert FakeAPI.state["flaky"] == 2


def test_auth_error_names_env_var(server, monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    scorer = APILLMScorer(f"needs-key@{server}", key_env="MY_KEY", workers=1)
    with pytest.raises(APIError, match=r"\$MY_KEY"):
        scorer.score([Pair("q", "i", "d", "text")])
    monkeypatch.setenv("MY_KEY", "sekrit")
    assert scorer.score([Pair("q", "i", "d", "text")])


def test_not_found_and_refused(server):
    with pytest.raises(APIError, match="404"):
        OpenAIClient(server).post("nope", {"model": "x"})
    with pytest.raises(APIError, match="cannot reach"):
        OpenAIClient("http://127.0.0.1:9/v1", max_retries=1, backoff=0.01).post("embeddings", {})


def test_bad_spec():
    with pytest.raises(SpecError, match="MODEL@BASE_URL"):
        load_model("api-llm:gpt-4o")


def test_answer_probability_fallback_without_logprobs():
    reply = {"choices": [{"message": {"content": "False"}, "logprobs": None}]}
    assert answer_probability(reply, "x") == 0.0


def test_embed_scores_no_pairs_without_a_request(server):
    # an empty batch used to reach numpy as a 1-d array and fail on the norm's axis
    scorer = APIEmbedScorer(f"m@{server}")
    assert scorer.score([]) == []
    assert FakeAPI.state.get("requests", 0) == 0


def test_bad_options_are_spec_errors():
    with pytest.raises(SpecError, match="unexpected keyword argument 'bogus'"):
        load_model("api-embed:m@http://127.0.0.1:9/v1?bogus=1")
    with pytest.raises(SpecError, match="batch_size='x' must be an integer"):
        load_model("api-embed:m@http://127.0.0.1:9/v1?batch_size=x")
    with pytest.raises(SpecError, match="workers='many'"):
        load_model("api-llm:m@http://127.0.0.1:9/v1?workers=many")


def test_answer_without_logprob_names_the_endpoint():
    top = [{"token": "true"}]
    reply = {"choices": [{"message": {"content": "true"}, "logprobs": {"content": [{"top_logprobs": top}]}}]}
    with pytest.raises(APIError, match="http://h/v1: top_logprobs entry without a numeric logprob"):
        answer_probability(reply, "http://h/v1")
