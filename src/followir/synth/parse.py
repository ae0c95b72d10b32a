"""Turn a generator's free text into labelled documents.

Generators rarely keep to the requested layout: they number options as "1.", "Option 1",
"**Document 2**" or "### Relevant documents", put blank lines and markdown between them,
give fewer options than asked, or (small models) loop on one sentence.  The parser reads
line by line, recognises *headers* (a label, an index, or both, before an optional colon)
and collects the text under each, so every one of those shapes yields the same records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_MARKDOWN = re.compile(r"^[\s>#*_`~-]+|[\s*_`~]+$")
_NEG_LABEL = re.compile(r"\b(not[\s-]*relevant|non[\s-]*relevant|irrelevant|unrelated)\b", re.I)
_POS_LABEL = re.compile(r"\brelevant\b", re.I)
_HEAD_WORDS = {
    "option", "options", "document", "documents", "doc", "docs", "example", "examples",
    "number", "no", "text", "version", "article", "passage", "the", "a", "an",
}
_NUMBERED = re.compile(r"^\(?(\d{1,2})[.)]\s+(.*)$")
_HEAD_SPLIT = re.compile(r"^(.{1,80}?)(?::|\s[-–—]\s)\s*(.*)$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD_LOOP = re.compile(r"\b(\w+(?:\s+\w+){0,5}?)(?:[\s,;]+\1\b){3,}", re.I)


@dataclass
class ParsedDocs:
    """Documents found in one generation, by intended label."""

    relevant: list[str] = field(default_factory=list)
    nonrelevant: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.relevant) + len(self.nonrelevant)


def _strip_markdown(line: str) -> str:
    return _MARKDOWN.sub("", line.strip()).strip()


def _label_of(text: str) -> int | None:
    if _NEG_LABEL.search(text):
        return 0
    if _POS_LABEL.search(text):
        return 1
    return None


def _header(line: str) -> tuple[int | None, bool, str] | None:
    """``(label, has_index, rest)`` when ``line`` opens a document or a section, else None."""
    clean = _strip_markdown(line)
    if not clean:
        return None
    m = _NUMBERED.match(clean)
    # `is None`: label 0 ("Not relevant") is a label too, not the absence of one.
    if m and _label_of(m.group(2)[:40] if ":" in m.group(2)[:40] else "") is None:
        return None, True, m.group(2).strip()
    m2 = _HEAD_SPLIT.match(clean)
    head, sep, rest = (m2.group(1), True, m2.group(2)) if m2 else (clean, False, "")
    head = _strip_markdown(head)
    if len(head.split()) > 8:
        return None
    label = _label_of(head)
    residue = _NEG_LABEL.sub(" ", head)
    residue = _POS_LABEL.sub(" ", residue)
    tokens = [t for t in re.split(r"[\s()\[\]#.,\-–—]+", residue.lower()) if t]
    numbers = [t for t in tokens if t.isdigit()]
    words = [t for t in tokens if not t.isdigit()]
    if any(w not in _HEAD_WORDS for w in words) or len(numbers) > 1:
        return None
    if label is None and not numbers:
        return None
    if not sep and label is None:
        return None  # a bare number line is not a header
    return label, bool(numbers), _strip_markdown(rest)


def collapse_repetition(text: str) -> str:
    """Cut generation loops: repeated phrases inside a sentence and repeated sentences."""
    text = _WORD_LOOP.sub(r"\1", text)
    seen: set[str] = set()
    kept: list[str] = []
    for sentence in _SENTENCE.split(text):
        key = re.sub(r"\W+", " ", sentence.lower()).strip()
        if not key or key in seen:
            continue
        seen.add(key)
        kept.append(sentence.strip())
    return " ".join(kept)


def parse_documents(text: str) -> ParsedDocs:
    """Split generator output into relevant and non-relevant documents.

    Text before the first labelled header is ignored (preambles like "Sure! Here are...");
    a numbered item inherits the label of the section it sits in; an item with no known
    label at all is dropped rather than guessed.
    """
    out = ParsedDocs()
    section: int | None = None
    current: list[str] | None = None
    current_label: int | None = None

    def flush() -> None:
        if current is not None and current_label is not None:
            doc = collapse_repetition(" ".join(" ".join(current).split()))
            if doc:
                (out.relevant if current_label == 1 else out.nonrelevant).append(doc)

    for raw in text.splitlines():
        head = _header(raw)
        if head is not None:
            label, has_index, rest = head
            if label is not None and not has_index and not rest:
                flush()  # a section title such as "## Not relevant documents"
                section, current, current_label = label, None, None
                continue
            flush()
            if label is not None:
                section = label
            current_label = label if label is not None else section
            current = [rest] if rest else []
            continue
        line = _strip_markdown(raw)
        if line and current is not None:
            current.append(line)
    flush()
    return out
