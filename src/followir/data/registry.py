"""`load_benchmark(spec)`: one entry point for bundled names, directories and hub ids.

Known benchmarks are declared once, as metadata (source, main measure, license, citation),
in a registry that refuses duplicates — so the main measure reported for ``news21`` is
decided here, not re-typed by every caller.  Directories are recognised by their layout:

========================  =====================================================
plain FollowIR            ``qrels_og/<split>.tsv|parquet`` + ``queries.jsonl``
FollowIR hub / mteb v2    config files or folders (``qrels_og/`` … or ``default/``)
InstructIR                BEIR shape whose queries carry ``base_id`` or ``[SEP]``
BEIR(+)                   ``qrels/<split>.tsv`` + ``corpus.jsonl``
TREC                      one topics file, one ``*qrels*`` file, ``<DOC>`` files
========================  =====================================================
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from followir.data.types import Benchmark
from followir.errors import DataError, SpecError

logger = logging.getLogger(__name__)

FOLLOWIR_CITATION = (
    "@article{weller2024followir,\n"
    "  title={FollowIR: Evaluating and Teaching Information Retrieval Models to Follow Instructions},\n"
    "  author={Weller, Orion and Chang, Benjamin and MacAvaney, Sean and Lo, Kyle and Cohan, Arman "
    "and Van Durme, Benjamin and Lawrie, Dawn and Soldaini, Luca},\n"
    "  journal={arXiv preprint arXiv:2403.15246},\n"
    "  year={2024}\n"
    "}"
)


@dataclass(frozen=True)
class BenchmarkInfo:
    """Declarative metadata of a known benchmark (after mteb's TaskMetadata)."""

    name: str
    source: str  # "bundled:<dir>" or a hub repo id
    main_measure: str
    license: str
    citation: str = ""
    description: str = ""
    revision: str | None = None

    @property
    def bundled(self) -> bool:
        return self.source.startswith("bundled:")


_REGISTRY: dict[str, BenchmarkInfo] = {}


def register(info: BenchmarkInfo) -> BenchmarkInfo:
    """Add a benchmark; a second one with the same name is a programming error."""
    key = info.name.lower()
    if key in _REGISTRY:
        raise SpecError(f"benchmark {info.name!r} is already registered")
    _REGISTRY[key] = info
    return info


def list_benchmarks() -> list[BenchmarkInfo]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_info(name: str) -> BenchmarkInfo:
    try:
        return _REGISTRY[name.lower()]
    except KeyError:
        raise SpecError(_unknown_message(name)) from None


def _unknown_message(spec: str) -> str:
    choices = sorted({*_REGISTRY, *bundled_names()})
    close = difflib.get_close_matches(spec.lower(), choices, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"unknown benchmark {spec!r}.{hint} Known: {', '.join(choices)}; "
        "or give a directory (plain FollowIR, BEIR, InstructIR, TREC, hub copy) "
        "or a hub id such as 'jhu-clsp/robust04-instructions'."
    )


register(BenchmarkInfo(
    name="followir-mini",
    source="bundled:followir-mini",
    main_measure="MAP@1000",
    license="Apache-2.0",
    description="Tiny offline FollowIR-style benchmark shipped with followir, for smoke tests.",
    citation=FOLLOWIR_CITATION,
))
register(BenchmarkInfo(
    name="robust04",
    source="jhu-clsp/robust04-instructions",
    main_measure="MAP@1000",
    license="MIT (annotations); documents under TREC/NIST terms",
    description="FollowIR Robust04: TREC narratives as instructions, with altered narrower ones.",
    citation=FOLLOWIR_CITATION,
))
register(BenchmarkInfo(
    name="core17",
    source="jhu-clsp/core17-instructions",
    main_measure="MAP@1000",
    license="MIT (annotations); documents under TREC/NIST terms",
    description="FollowIR Core17 (New York Times).",
    citation=FOLLOWIR_CITATION,
))
register(BenchmarkInfo(
    name="news21",
    source="jhu-clsp/news21-instructions",
    main_measure="nDCG@5",
    license="MIT (annotations); documents under TREC/NIST terms",
    description="FollowIR News21 (Washington Post); graded judgments, hence nDCG@5.",
    citation=FOLLOWIR_CITATION,
))


# -- bundled data ----------------------------------------------------------------------------
def _bundled_root():
    return resources.files("followir.data") / "bundled"


def bundled_names() -> list[str]:
    """Benchmarks shipped as package data (folders under followir/data/bundled/)."""
    root = _bundled_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


# -- loading -----------------------------------------------------------------------------------
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def detect_layout(directory: str | Path, split: str = "test") -> str:
    """Which reader a directory needs: plain, hub, instructir, beir or trec."""
    from followir.data.beir import is_beir
    from followir.data.hub import layout_of, local_tables
    from followir.data.instructir import is_instructir
    from followir.data.plain import is_plain
    from followir.data.trec import find_trec_files

    d = Path(directory)
    if not d.is_dir():
        raise DataError("not a directory", d)
    if is_plain(d, split):
        return "plain"
    _, configs = local_tables(d, split)
    hub_like = layout_of(configs) is not None
    if hub_like and (d / "corpus").is_dir():  # configs as folders: unambiguous
        return "hub"
    if is_instructir(d):
        return "instructir"
    if is_beir(d):
        return "beir"
    if hub_like:
        return "hub"
    if find_trec_files(d) is not None:
        return "trec"
    raise DataError(
        "unrecognised benchmark layout: expected plain FollowIR (qrels_og/), a FollowIR hub or "
        "mteb v2 copy (corpus/, queries/, qrels_og/ or default/), BEIR (qrels/<split>.tsv), "
        "InstructIR, or TREC (topics + qrels + <DOC> files)",
        d,
    )


def load_dir(directory: str | Path, split: str = "test", name: str | None = None,
             main_measure: str | None = None) -> Benchmark:
    """Load a local directory in whichever layout it has."""
    from followir.data import beir, hub, instructir, plain, trec

    d = Path(directory)
    layout = detect_layout(d, split)
    logger.info("%s: %s layout", d, layout)
    if layout == "plain":
        b = plain.read_plain(d, name=name, split=split)
    elif layout == "hub":
        b = hub.read_hub_dir(d, name=name, split=split)
    elif layout == "instructir":
        b = instructir.read_instructir(d, split=split, name=name)
    elif layout == "beir":
        b = beir.read_beir(d, split=split, name=name)
    else:
        b = trec.read_trec_dir(d, name=name)
    if main_measure:
        b.main_measure = main_measure
    return b


def _load_bundled(dirname: str, info: BenchmarkInfo | None, split: str) -> Benchmark:
    with resources.as_file(_bundled_root() / dirname) as path:
        b = load_dir(path, split=split, name=info.name if info else dirname)
    if info is not None:
        _apply_info(b, info)
    b.metadata["bundled"] = True
    return b


def _apply_info(b: Benchmark, info: BenchmarkInfo) -> None:
    b.main_measure = info.main_measure
    b.metadata.update(license=info.license, citation=info.citation, registry_source=info.source)
    if info.revision:
        b.metadata["revision"] = info.revision


def load_benchmark(
    spec: str | Path, split: str = "test", revision: str | None = None
) -> Benchmark:
    """A benchmark from a registered/bundled name, a local directory or a hub id.

    ``"followir-mini"`` (bundled), ``"robust04"`` (registered → hub), ``"./my-set"``,
    ``"jhu-clsp/core17-instructions"`` or ``"mteb/Robust04InstructionRetrieval"``.
    """
    text = str(spec)
    path = Path(text).expanduser()
    if path.exists():
        return load_dir(path, split=split)
    if isinstance(spec, str) and spec.lower() in _REGISTRY:
        info = _REGISTRY[spec.lower()]
        if info.bundled:
            return _load_bundled(info.source.split(":", 1)[1], info, split)
        return _load_hub(info.source, split, revision or info.revision, info)
    if isinstance(spec, str) and spec in bundled_names():
        return _load_bundled(spec, None, split)
    if isinstance(spec, str) and _HUB_ID.match(spec):  # the pattern rules out "./x", "../x"
        known = next((i for i in _REGISTRY.values() if i.source == spec), None)
        return _load_hub(spec, split, revision, known)
    if isinstance(spec, Path) or "/" in text or text.startswith("."):
        raise SpecError(f"no such directory: {text}")
    raise SpecError(_unknown_message(text))


def _load_hub(repo: str, split: str, revision: str | None, info: BenchmarkInfo | None) -> Benchmark:
    from followir.data.hub import load_hub

    b = load_hub(repo, split=split, revision=revision, name=info.name if info else None)
    if info is not None:
        _apply_info(b, info)
    elif "news21" in repo.lower():
        b.main_measure = "nDCG@5"
    return b
