"""A small client for OpenAI-compatible HTTP APIs (OpenAI, vLLM, llama.cpp, TGI, ...).

Standard library only, so the API families add no dependency.  What it adds over a bare
``urllib`` call is what long evaluations need: retries with exponential backoff that honour
``Retry-After``, a client-side rate limit, and errors that say what to fix (a 401 names the
environment variable holding the key, a refused connection names the URL).
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from followir.errors import FollowIRError

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class APIError(FollowIRError):
    """A request that failed for good (after retries, or not worth retrying)."""


@dataclass
class OpenAIClient:
    """POST JSON to ``{base_url}/{path}`` with retries, backoff and a rate limit.

    ``key_env`` names the environment variable holding the API key (none sent when unset,
    as local servers need none).  ``rps`` caps requests per second across threads.
    """

    base_url: str
    key_env: str = "OPENAI_API_KEY"
    timeout: float = 60.0
    max_retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 30.0
    rps: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_slot: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    def _throttle(self) -> None:
        if not self.rps:
            return
        with self._lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1.0 / self.rps
        if wait > 0:
            time.sleep(wait)

    def post(self, path: str, payload: dict[str, object]) -> dict[str, object]:
        url = f"{self.base_url}/{path.lstrip('/')}"
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = json.dumps(payload).encode("utf-8")
        for attempt in range(self.max_retries + 1):
            self._throttle()
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:300]
                if exc.code == 401 or exc.code == 403:
                    raise APIError(
                        f"{url}: authentication failed (HTTP {exc.code}); "
                        f"set the API key in ${self.key_env}. Server said: {detail}"
                    ) from None
                if exc.code == 404:
                    raise APIError(
                        f"{url}: not found (HTTP 404); check the base URL and the model name. "
                        f"Server said: {detail}"
                    ) from None
                if exc.code not in RETRY_STATUS or attempt == self.max_retries:
                    raise APIError(f"{url}: HTTP {exc.code}: {detail}") from None
                delay = self._delay(attempt, exc.headers.get("Retry-After"))
                log.warning("%s: HTTP %s, retrying in %.1fs", url, exc.code, delay)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt == self.max_retries:
                    reason = getattr(exc, "reason", exc)
                    raise APIError(
                        f"cannot reach {url}: {reason} (after {attempt + 1} attempts)"
                    ) from None
                delay = self._delay(attempt, None)
                log.warning("%s: %s, retrying in %.1fs", url, exc, delay)
            except json.JSONDecodeError as exc:
                raise APIError(f"{url}: the server's answer is not JSON ({exc})") from None
            time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_backoff)
            except ValueError:
                pass
        base = min(self.backoff * 2**attempt, self.max_backoff)
        return base * (0.5 + random.random() / 2)  # jitter so parallel clients spread out
