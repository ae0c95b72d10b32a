"""Models behind OpenAI-compatible HTTP APIs: embeddings and chat models scored by logprobs.

Specs: ``api-embed:MODEL@BASE_URL`` and ``api-llm:MODEL@BASE_URL`` (BASE_URL up to and
including ``/v1``).  The same code talks to OpenAI, a local vLLM or a llama.cpp server.
Options of both: ``key_env`` (environment variable with the key), ``rps`` (rate limit),
``retries``.  ``api-embed`` also takes ``batch_size`` (texts per embeddings request) and
``query_template``; ``api-llm`` takes ``workers`` (parallel requests), ``top_logprobs`` and
``max_doc_chars``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from followir.errors import SpecError
from followir.models.base import Pair
from followir.models.http import APIError, OpenAIClient
from followir.models.loading import float_option, int_option
from followir.models.templates import QUESTION

# The FollowIR-7B question (Weller et al. 2024), asked as a chat message.
RELEVANCE_PROMPT = (
    f"{QUESTION}\n\nQuery: {{query}} {{instruction}}\nDocument: {{document}}\n"
    'Relevant (only output one word, either "true" or "false"):'
)


def _split_target(target: str, family: str) -> tuple[str, str]:
    model, sep, base_url = target.rpartition("@")
    if not sep or not model or not base_url.startswith(("http://", "https://")):
        raise SpecError(
            f"{family}:{target!r} must look like {family}:MODEL@BASE_URL, "
            f"e.g. {family}:text-embedding-3-small@https://api.openai.com/v1"
        )
    return model, base_url


def _client(base_url: str, key_env: str, rps: str | float | None, retries: str | int) -> OpenAIClient:
    return OpenAIClient(
        base_url,
        key_env=key_env,
        rps=float_option("rps", rps) if rps else None,
        max_retries=int_option("retries", retries, minimum=0),
    )


class APIEmbedScorer:
    """Cosine similarity of API embeddings; documents embedded once per text."""

    def __init__(
        self,
        target: str,
        key_env: str = "OPENAI_API_KEY",
        rps: str | float | None = None,
        batch_size: str | int = 64,
        retries: str | int = 5,
        query_template: str = "{instruction} {query}",
    ):
        self.model, self.base_url = _split_target(target, "api-embed")
        self.name = f"api-embed:{self.model}"
        self.client = _client(self.base_url, key_env, rps, retries)
        self.batch_size = int_option("batch_size", batch_size)
        self.query_template = query_template
        self._doc_vectors: dict[str, np.ndarray] = {}

    @property
    def fingerprint(self) -> str:
        return f"api-embed|{self.model}|{self.base_url}|{self.query_template}"

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            part = list(texts[i : i + self.batch_size])
            reply = self.client.post("embeddings", {"model": self.model, "input": part})
            try:
                data = sorted(reply["data"], key=lambda d: d["index"])  # type: ignore[index]
                vectors = [d["embedding"] for d in data]
            except (KeyError, TypeError) as exc:
                raise APIError(f"{self.base_url}: unexpected embeddings answer: {exc}") from None
            if len(vectors) != len(part):
                raise APIError(
                    f"{self.base_url}: asked for {len(part)} embeddings, got {len(vectors)}"
                )
            out.extend(vectors)
        matrix = np.asarray(out, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.maximum(norms, 1e-12)

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        doc_keys = [hashlib.sha1(p.doc_text.encode()).hexdigest() for p in pairs]
        todo = {k: p.doc_text for k, p in zip(doc_keys, pairs, strict=True) if k not in self._doc_vectors}
        if todo:
            keys = list(todo)
            for k, v in zip(keys, self._embed([todo[k] for k in keys]), strict=True):
                self._doc_vectors[k] = v
        queries = sorted({self.query_template.format(query=p.query, instruction=p.instruction) for p in pairs})
        qvec = dict(zip(queries, self._embed(queries), strict=True))
        return [
            float(qvec[self.query_template.format(query=p.query, instruction=p.instruction)] @ self._doc_vectors[k])
            for p, k in zip(pairs, doc_keys, strict=True)
        ]


class APILLMScorer:
    """P("true") from a chat model's first-token logprobs (``logprobs`` + ``top_logprobs``).

    The score is the probability of "true" renormalised over {true, false}.  When neither
    answer is among the top logprobs, the generated word decides (1.0 for true, 0.0 for
    false, 0.5 otherwise) so that a server without logprob support still ranks something.
    """

    def __init__(
        self,
        target: str,
        key_env: str = "OPENAI_API_KEY",
        rps: str | float | None = None,
        workers: str | int = 4,
        retries: str | int = 5,
        top_logprobs: str | int = 20,
        max_doc_chars: str | int = 8000,
    ):
        self.model, self.base_url = _split_target(target, "api-llm")
        self.name = f"api-llm:{self.model}"
        self.client = _client(self.base_url, key_env, rps, retries)
        self.workers = int_option("workers", workers, minimum=0)
        self.top_logprobs = int_option("top_logprobs", top_logprobs, minimum=0)
        self.max_doc_chars = int_option("max_doc_chars", max_doc_chars, minimum=0)

    @property
    def fingerprint(self) -> str:
        return f"api-llm|{self.model}|{self.base_url}|{self.max_doc_chars}|{hash_text(RELEVANCE_PROMPT)}"

    def prompt(self, pair: Pair) -> str:
        return RELEVANCE_PROMPT.format(
            query=pair.query, instruction=pair.instruction, document=pair.doc_text[: self.max_doc_chars]
        )

    def _score_one(self, pair: Pair) -> float:
        reply = self.client.post(
            "chat/completions",
            {
                "model": self.model,
                "messages": [{"role": "user", "content": self.prompt(pair)}],
                "max_tokens": 1,
                "temperature": 0,
                "logprobs": True,
                "top_logprobs": self.top_logprobs,
            },
        )
        return answer_probability(reply, self.base_url)

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if self.workers <= 1 or len(pairs) <= 1:
            return [self._score_one(p) for p in pairs]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(self._score_one, pairs))


def hash_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def answer_probability(reply: dict[str, object], where: str) -> float:
    """P(true) / (P(true) + P(false)) from a chat-completions answer with logprobs."""
    try:
        choice = reply["choices"][0]  # type: ignore[index]
        content = (choice.get("message", {}) or {}).get("content") or ""
        logprobs = choice.get("logprobs") or {}
        first = (logprobs.get("content") or [{}])[0]
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise APIError(f"{where}: unexpected chat answer: {exc}") from None
    best: dict[str, float] = {}
    for item in first.get("top_logprobs") or []:
        word = str(item.get("token", "")).strip().lower()
        if word in ("true", "false"):
            try:
                logprob = float(item["logprob"])
            except (KeyError, TypeError, ValueError):
                raise APIError(f"{where}: top_logprobs entry without a numeric logprob: {item!r}") from None
            best[word] = max(best.get(word, -math.inf), logprob)
    if "true" in best or "false" in best:
        lt, lf = best.get("true", -math.inf), best.get("false", -math.inf)
        m = max(lt, lf)
        pt, pf = math.exp(lt - m), math.exp(lf - m)
        return pt / (pt + pf)
    word = content.strip().lower()
    return 1.0 if word.startswith("true") else 0.0 if word.startswith("false") else 0.5
