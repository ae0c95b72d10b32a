"""The document-creation prompt of the FollowIR training recipe.

FollowIR (arXiv 2403.15246, Appendix H "Synthetic Document Creation") asked GPT-3.5 for three
options each of a relevant and of a non-relevant ~300-word document for a TREC query and its
narrative; when the narrative has no negation, the non-relevant document should be only
slightly off-topic, so that the negatives are hard ones rather than random text.

The exact wording of Appendix H could not be retrieved offline while this module was
written, so ``DOC_PROMPT`` is a reconstruction that keeps every element the paper describes
(query + instruction in, 3 + 3 options of ~300 words out, the negation rule) and asks for a
fixed, machine-parseable layout.  Its id (``PROMPT_ID``) is recorded on every generated
document, so data made with a later, verbatim prompt is never mixed up with this one.
"""

from __future__ import annotations

import re

PROMPT_ID = "followir-docgen-v1"
N_OPTIONS = 3
DOC_WORDS = 300

DOC_PROMPT = """\
You are helping to build training data for a search engine that must follow detailed \
relevance instructions, like the narratives given to TREC assessors.

Query: {query}
Instruction (what makes a document relevant): {instruction}

Write {n} options for a document that is RELEVANT to the query under the instruction, and \
{n} options for a document that is NOT RELEVANT under the instruction. Each document should \
be about {words} words long and read like a real news article or report; do not mention the \
instruction, the query or the words "relevant"/"not relevant" inside the documents.
{negative_rule}

Use exactly this format:
Relevant Option 1: <document>
Relevant Option 2: <document>
Relevant Option 3: <document>
Not Relevant Option 1: <document>
Not Relevant Option 2: <document>
Not Relevant Option 3: <document>
"""

NEGATION_RULE = (
    "The instruction excludes some documents: make each not-relevant document discuss the "
    "query's topic but fall under what the instruction says is not relevant."
)
NO_NEGATION_RULE = (
    "The instruction has no exclusions: make each not-relevant document slightly off-topic, "
    "close to the query's subject but missing what the instruction requires."
)

# Words that signal an exclusion in TREC narratives ("... are not relevant", "excluding").
_NEGATION = re.compile(
    r"\b(not|no|non|nor|never|without|except|excluding|exclude[sd]?|unless|neither|"
    r"irrelevant|isn't|aren't|won't|wouldn't|don't|doesn't)\b",
    re.IGNORECASE,
)


def has_negation(instruction: str) -> bool:
    """Whether an instruction states what is *not* relevant (a cheap lexical test)."""
    return bool(_NEGATION.search(instruction))


def build_doc_prompt(query: str, instruction: str) -> str:
    """The generation prompt for one (query, instruction) pair."""
    rule = NEGATION_RULE if has_negation(instruction) else NO_NEGATION_RULE
    return DOC_PROMPT.format(
        query=query.strip(),
        instruction=" ".join(instruction.split()),
        n=N_OPTIONS,
        words=DOC_WORDS,
        negative_rule=rule,
    )


_PAIR_IN_PROMPT = re.compile(
    r"^Query: (?P<query>.*?)\nInstruction \(what makes a document relevant\): (?P<instruction>.*?)\n\nWrite ",
    re.S | re.M,
)


def parse_doc_prompt(prompt: str) -> tuple[str, str] | None:
    """(query, instruction) back from a :func:`build_doc_prompt` prompt, else None.

    Lets a generator that reads the pair rather than prose (``narrative``) take exactly
    what an LLM would be given.
    """
    m = _PAIR_IN_PROMPT.search(prompt)
    return (m.group("query"), m.group("instruction")) if m else None
