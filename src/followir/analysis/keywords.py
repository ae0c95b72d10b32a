"""Offline stand-ins for the paper's LLM-written ablation variants (FollowIR Fig. 3).

The FollowIR ablation asks whether a model uses an instruction as *meaning* or only as a
bag of extra keywords: it swaps the full TREC narrative for (a) a few keywords and (b) a
short, generic instruction, and compares each against the query alone.  The paper had
GPT-4 write both (prompts in `followir.analysis.generators`).  When no LLM is at hand these
two deterministic functions produce comparable variants, so an ablation runs anywhere and
always gives the same texts:

* `extract_keywords`: the narrative's content words — lower-cased alphabetic tokens minus an
  English stopword list and the boilerplate every TREC narrative repeats ("relevant",
  "document", "information", ...) — ranked by frequency, ties broken by first position
  (earlier words are usually the topic), top ``k``, in ranking order.
* `short_instruction`: the narrative's first sentence cut to at most ``max_words`` words
  (and strictly shorter than the narrative unless that is a single word).  This is a *truncation* baseline, not
  the paper's abstraction; pass ``--generator`` to `followir ablate` for the LLM version.
"""

from __future__ import annotations

import re
from collections import Counter

# A compact English stopword list (the usual function words) ...
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can cannot could did do does doing down during each
    either else ever every few for from further had has have having he her here hers herself
    him himself his how however i if in into is isn't it its itself just least less let like
    many may me might more most much must my myself neither no nor not of off often on once
    only or other others otherwise our ours ourselves out over own per perhaps rather same
    shall she should since so some such than that the their theirs them themselves then there
    these they this those though through thus to too under until up upon us very via was we
    were what whatever when where whether which while who whom whose why will with within
    without would yet you your yours yourself yourselves
    """.split()
)

# ... plus the vocabulary of relevance narratives themselves, which says how to judge, not
# what the topic is ("A relevant document must discuss ...").
NARRATIVE_WORDS = frozenset(
    """
    relevant relevance irrelevant nonrelevant non-relevant document documents article articles
    information info discuss discusses discussing discussed mention mentions mentioned
    mentioning contain contains containing include includes including identify identifies
    provide provides providing describe describes describing description report reports
    reported reporting specific specifically example examples instance instances etc regarding
    concerning related considered consider also well one two given must need needs used use
    using make makes made would less more not only any such way ways whether
    """.split()
)

_TOKEN = re.compile(r"[A-Za-z][A-Za-z\-']*[A-Za-z]|[A-Za-z]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def content_words(text: str) -> list[str]:
    """Lower-cased alphabetic tokens of ``text`` that are neither stopwords nor narrative
    boilerplate, in text order (repeats kept)."""
    out = []
    for token in _TOKEN.findall(text):
        word = token.lower()  # _TOKEN starts and ends on a letter: nothing to strip
        if len(word) < 3 or word in STOPWORDS or word in NARRATIVE_WORDS:
            continue
        out.append(word)
    return out


def extract_keywords(text: str, k: int = 5) -> list[str]:
    """The ``k`` most frequent content words of ``text`` (ties: earliest first)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, not {k}")
    words = content_words(text)
    counts = Counter(words)
    first = {}
    for i, w in enumerate(words):
        first.setdefault(w, i)
    ranked = sorted(counts, key=lambda w: (-counts[w], first[w]))
    return ranked[:k]


def keywords_text(text: str, k: int = 5) -> str:
    """`extract_keywords` joined by spaces: the instruction text of the keywords variant."""
    return " ".join(extract_keywords(text, k))


def short_instruction(text: str, max_words: int = 12) -> str:
    """The first sentence of ``text``, at most ``max_words`` words and fewer words than
    ``text`` itself (so the short variant is never the full narrative), except for a
    one-word ``text``, which is returned as that word."""
    if max_words < 1:
        raise ValueError(f"max_words must be >= 1, not {max_words}")
    text = " ".join(text.split())
    if not text:
        return ""
    total = len(text.split())
    first = _SENTENCE_END.split(text, maxsplit=1)[0]
    words = first.split()[:max_words]
    if len(words) >= total:  # a one-sentence narrative that already fits: cut it further
        words = words[: max(1, (2 * total) // 3)]
    short = " ".join(words).rstrip(",;:")
    return short if short.endswith((".", "!", "?")) else short + "."
