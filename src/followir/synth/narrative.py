"""Documents derived from the instruction's own sentences: the offline fallback generator.

When no strong generator is available (a 135M model writes unusable documents and judges
near chance), the narrative itself still carries the supervision FollowIR needs: its
positive clauses ("A relevant document must identify the organization ...") describe
relevant documents and its negative clauses ("Vague references to drug trade ... would not
be relevant") describe on-topic documents that are *not* relevant.  Each clause becomes a
short pseudo-document; topics without exclusions get off-topic negatives drawn from other
pairs.  :func:`altered_pairs` narrows an instruction by excluding one of its positive
clauses, FollowIR's own "changed instruction" move, so the same document text is relevant
under one instruction and not under the other: the model must read the instruction.

This is honest weak supervision, not the paper's GPT-3.5 data: documents are one or two
templated sentences, far shorter and plainer than news articles.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from followir.errors import SpecError
from followir.models.generators import GREEDY, Sampling
from followir.synth.pairs import SynthPair
from followir.synth.prompts import parse_doc_prompt

_NEGATIVE = re.compile(
    r"\b(not|non)[\s-]*(be\s+)?(relevant|of interest|considered relevant)|\birrelevant\b|"
    r"\bnot\s+(be\s+)?(considered|acceptable|useful|sufficient)\b",
    re.I,
)
_POS_PREFIX = re.compile(
    r"^(to be relevant,?\s*)?(a|any|the)?\s*(relevant|pertinent|useful)\s+"
    r"(documents?|items?|reports?|articles?)\s*(must|should|will|would|may|might|can|could|"
    r"need to|needs to|has to|have to)?\s*(also\s+)?(as a minimum|at a minimum|at least)?\s*,?\s*",
    re.I,
)
_NEG_SUBJECT = re.compile(r"^(documents?|articles?|reports?|items?)\s+(that|which|about|on)\s+", re.I)
_NEG_TAIL = re.compile(
    r"\s*(are|is|would|will|should)\s+(also\s+)?(not|non)[\s-]*(be\s+)?(considered\s+)?"
    r"(relevant|of interest).*$|\s*(are|is)\s+irrelevant.*$|\s*(would|will)\s+be\s+irrelevant.*$",
    re.I,
)
_POS_TAIL = re.compile(
    r"\s+(is|are|would|will|should)\s+(also\s+)?(be\s+)?(considered\s+)?(relevant|of interest)\b.*$", re.I
)
_POS_LEAD = re.compile(
    r"^(of interest (would be|is|are)|(documents?|articles?) (are|is) relevant (that|which|if they)|"
    r"also relevant (would be|are|is))\s+",
    re.I,
)
_SENT = re.compile(r"(?<=[.;!?])\s+(?=[A-Z])")
_SKIP_VERB = {"be", "is", "are", "was", "were"}


@dataclass(frozen=True)
class Clause:
    kind: str  # "verb" (a verb phrase: "identify the cartel") or "noun" ("reports of ...")
    text: str


def _conjugate(verb: str) -> str:
    v = verb.lower()
    if v in {"have"}:
        return "has"
    if re.search(r"(s|sh|ch|x|z|o)$", v):
        return verb + "es"
    if re.search(r"[^aeiou]y$", v):
        return verb[:-1] + "ies"
    return verb + "s"


def statement(clause: Clause) -> str:
    """The pseudo-document sentence for a clause (deterministic: same clause, same text)."""
    text = clause.text.rstrip(" .;:")
    if clause.kind == "verb":
        first, _, rest = text.partition(" ")
        if first.lower() in _SKIP_VERB:
            return f"This report covers {rest}."
        return f"This report {_conjugate(first)} {rest}.".replace(" .", ".")
    return f"This report covers {text[0].lower() + text[1:] if text else text}."


def split_clauses(instruction: str) -> tuple[list[Clause], list[Clause]]:
    """(positive, negative) clauses of a narrative, each normalised for :func:`statement`."""
    pos: list[Clause] = []
    neg: list[Clause] = []
    for sent in _SENT.split(" ".join(instruction.split())):
        sent = sent.strip()
        if len(sent.split()) < 3:
            continue
        if _NEGATIVE.search(sent):
            body = _NEG_TAIL.sub("", sent).strip(" .;")
            m = _NEG_SUBJECT.match(body)
            if m and m.group(2).lower() in {"that", "which"}:
                neg.append(Clause("verb", body[m.end() :]))
            elif m:
                neg.append(Clause("noun", body[m.end() :]))
            elif body and body != sent.strip(" .;"):
                neg.append(Clause("noun", body))
            continue
        lead = _POS_LEAD.match(sent)
        if not lead:
            sent = _POS_TAIL.sub("", sent).strip(" .;")
        if len(sent.split()) < 3:
            continue
        if lead:
            verbish = re.search(r"(that|which|if they)$", lead.group(0).strip(), re.I)
            pos.append(Clause("verb" if verbish else "noun", sent[lead.end() :]))
            continue
        m = _POS_PREFIX.match(sent)
        if m and m.group(5):
            pos.append(Clause("verb", sent[m.end() :].strip(" .;")))
        elif m:
            rest = sent[m.end() :].strip(" .;")
            pos.append(Clause("verb", rest) if rest.split()[:1] and rest.split()[0].islower() else Clause("noun", rest))
        else:
            pos.append(Clause("noun", sent.strip(" .;")))
    return pos, neg


def exclusion_sentence(clause: Clause) -> str:
    """The sentence that turns a positive clause into an exclusion (parses back to it)."""
    if clause.kind == "verb":
        return f"Documents that {clause.text} are not relevant."
    return f"Documents about {clause.text} are not relevant."


def altered_pairs(pairs: Sequence[SynthPair]) -> list[SynthPair]:
    """For each pair with >= 2 positive clauses, a narrower pair excluding the last one."""
    out = []
    for p in pairs:
        pos, _ = split_clauses(p.instruction)
        if len(pos) < 2:
            continue
        narrowed = f"{p.instruction.rstrip()} {exclusion_sentence(pos[-1])}"
        out.append(SynthPair(f"{p.pair_id}:altered", p.query, narrowed, p.source))
    return out


def _doc(query: str, clause: Clause) -> str:
    return f"{query.rstrip(' ?.')}. {statement(clause)}"


class NarrativeGenerator:
    """Writes documents from the instruction's clauses in the layout the parser reads.

    ``pool`` holds other pairs' instructions for off-topic negatives; the synth CLI fills it
    with every pair of the run.
    """

    name = "narrative"

    def __init__(self, pool: Sequence[SynthPair] = (), n: int = 3):
        self.pool = list(pool)
        self.n = int(n)

    @property
    def fingerprint(self) -> str:
        return f"narrative-v1|n={self.n}|pool={len(self.pool)}"

    def generate(self, prompt: str, sampling: Sampling = GREEDY) -> str:
        """Documents for the pair in a `build_doc_prompt` prompt (``sampling.seed`` picks
        the off-topic negatives)."""
        pair = parse_doc_prompt(prompt)
        if pair is None:
            raise SpecError("the narrative generator only reads synthesis prompts (followir synth)")
        query, instruction = pair
        pos, neg = split_clauses(instruction)
        excluded = {statement(c) for c in neg}
        pos = [c for c in pos if statement(c) not in excluded]
        relevant = [_doc(query, c) for c in pos[: self.n]]
        nonrel = [_doc(query, c) for c in neg[: self.n]]
        rng = random.Random(sampling.seed)
        others = [p for p in self.pool if p.query.strip() != query]
        rng.shuffle(others)
        for other in others:
            if len(nonrel) >= self.n:
                break
            opos, _ = split_clauses(other.instruction)
            if opos:
                nonrel.append(_doc(other.query, opos[0]))
        lines = [f"Relevant Option {i}: {d}" for i, d in enumerate(relevant, 1)]
        lines += [f"Not Relevant Option {i}: {d}" for i, d in enumerate(nonrel, 1)]
        return "\n".join(lines)
