"""The resumable synthesis loop: synthetic documents for (query, instruction) pairs.

:func:`synthesize` builds the document prompt for each pair, asks a generator
(`followir.models.generators`: an OpenAI-compatible endpoint, a local causal LM, or the
``narrative`` fallback of :mod:`followir.synth.narrative`), parses the answer, retries
unusable answers with a new seed, and appends one JSONL row per document with its provenance
(prompt id, generator, seed), so that an interrupted run resumes by skipping the pairs
already in the output file.  Answers are cached on disk by the shared
`followir.models.generators.GenerationCache`, keyed by generator, prompt and settings.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from followir.errors import DataError
from followir.models.generators import CachedGenerator, GenerationCache, Generator, Sampling
from followir.synth.pairs import SynthPair
from followir.synth.parse import parse_documents
from followir.synth.prompts import PROMPT_ID, build_doc_prompt

log = logging.getLogger(__name__)

# Sampled (documents should differ between seeds), with a mild repetition penalty for
# small local models; 3000 tokens hold six ~300-word documents.
SYNTH_SAMPLING = Sampling(temperature=0.7, top_p=0.95, repetition_penalty=1.15, max_new_tokens=3000)


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
    sampling: Sampling = SYNTH_SAMPLING,
) -> SynthStats:
    """Generate documents for every pair not yet in ``out`` and append them to it.

    ``sampling`` gives the settings of every call; its seed is replaced by ``seed``,
    ``seed + 1``, ... for the attempts.  A pair whose answers (``1 + retries`` seeds) never
    give at least one relevant and one non-relevant document is recorded as
    ``{"error": "unparseable"}`` so that ``filter`` can count it and a resumed run does not
    retry it forever.
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
    gen = CachedGenerator(generator, cache) if cache is not None else generator
    with out.open("a", encoding="utf-8") as fh:
        for pair in tqdm(todo, desc="synth", unit="pair", disable=not progress):
            rows = _one_pair(pair, gen, replace(sampling, seed=seed), retries, stats)
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
    stats.cached = gen.hits if isinstance(gen, CachedGenerator) else 0
    return stats


def _one_pair(
    pair: SynthPair,
    generator: Generator,
    sampling: Sampling,
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
        s = sampling.seed + attempt
        text = generator.generate(prompt, replace(sampling, seed=s))
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
    return [{**base, "error": "unparseable", "seed": sampling.seed, "raw": text[:2000]}]

