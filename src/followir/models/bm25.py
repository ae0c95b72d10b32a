"""BM25 (bm25s, Lucene variant) over query + instruction, as in the FollowIR paper.

The paper runs BM25 on the full corpus, so IDF must be *corpus-level*, not pool-level.
``index(doc_ids, texts)`` builds that index once (call it with the whole corpus before
reranking for exact paper semantics); ``score()`` then scores each pair against it with
``get_scores``.  Documents that ``score()`` meets and the index lacks are added by
re-indexing the union of everything seen, so IDF grows towards the corpus statistics; the
fingerprint records which mode produced a score (``idf=corpus:<hash>`` or ``idf=seen``)
so the score cache never mixes them.

Defaults k1=0.9, b=0.4 are Anserini's; stemming is Snowball English (PyStemmer) with
English stopwords removed.  Indexes save as bm25s' own npy/json files plus ``doc_ids.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from followir.data.jsonl import read_json_file
from followir.errors import DataError, require
from followir.models.base import Pair, join_query
from followir.models.loading import float_option, reject_unknown

log = logging.getLogger(__name__)

DOC_IDS_FILE = "doc_ids.json"
SETTINGS_FILE = "followir_bm25.json"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class BM25Scorer:
    """``bm25`` — options ``k1`` (0.9), ``b`` (0.4), ``stemmer`` (english|none),
    ``stopwords`` (en|none)."""

    OPTIONS = ("k1", "b", "stemmer", "stopwords")
    #: tells the reranking protocol (`evaluation.rerank.prepare_scorer`) to call
    #: ``index()`` with the whole corpus first, so IDF is corpus-level and scores do not
    #: depend on chunking, sharding or resume order
    corpus_statistics = True

    def __init__(self, **options: object):
        reject_unknown("bm25", options, self.OPTIONS)
        self.k1 = float_option("k1", options.get("k1", 0.9))
        self.b = float_option("b", options.get("b", 0.4))
        self.stemmer_name = str(options.get("stemmer", "english"))
        self.stopwords = str(options.get("stopwords", "en"))
        self.name = "bm25"
        self._bm25s = require("bm25s", "bm25")
        self._stemmer = None
        if self.stemmer_name != "none":
            stemmer_mod = require("Stemmer", "bm25")
            self._stemmer = stemmer_mod.Stemmer(self.stemmer_name)
        self._doc_ids: list[str] = []
        self._doc_sha: list[str] = []
        self._tokens: list[list[str]] = []
        self._position: dict[str, int] = {}  # doc id -> row in the index
        self._model = None
        self._corpus_hash: str | None = None  # set by index(): the IDF is corpus-level
        self._frozen = False  # a loaded index has no tokens to rebuild from

    # -- settings --------------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        idf = f"corpus:{self._corpus_hash}" if self._corpus_hash else "seen"
        return (
            f"bm25s-lucene|k1={self.k1}|b={self.b}|stemmer={self.stemmer_name}"
            f"|stopwords={self.stopwords}|idf={idf}"
        )

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        sw = None if self.stopwords == "none" else self.stopwords
        out = self._bm25s.tokenize(
            list(texts),
            stopwords=sw,
            stemmer=self._stemmer,
            return_ids=False,
            show_progress=False,
        )
        return [list(t) for t in out]

    # -- index -----------------------------------------------------------------------------
    def _build(self) -> None:
        model = self._bm25s.BM25(k1=self.k1, b=self.b, method="lucene")
        # an empty document still needs a row; bm25s indexes [] as an empty doc
        model.index(self._tokens, show_progress=False)
        self._model = model

    def _add(self, doc_ids: Sequence[str], texts: Sequence[str]) -> None:
        tokens = self.tokenize(texts)
        for did, text, toks in zip(doc_ids, texts, tokens, strict=True):
            did = str(did)
            sha = _sha(text)
            if did in self._position:
                pos = self._position[did]
                if self._doc_sha[pos] != sha:
                    raise DataError(f"document {did!r} seen with two different texts")
                continue
            self._position[did] = len(self._doc_ids)
            self._doc_ids.append(did)
            self._doc_sha.append(sha)
            self._tokens.append(toks)

    def index(self, doc_ids: Sequence[str], texts: Sequence[str]) -> None:
        """Index a whole collection; its statistics become the IDF for every later score."""
        if len(doc_ids) != len(texts):
            raise ValueError(f"{len(doc_ids)} doc ids but {len(texts)} texts")
        self._doc_ids, self._doc_sha, self._tokens, self._position = [], [], [], {}
        self._frozen = False
        self._add(doc_ids, texts)
        self._build()
        h = hashlib.sha256()
        for did, sha in zip(self._doc_ids, self._doc_sha, strict=True):
            h.update(f"{did}\x1f{sha}\x1e".encode())
        self._corpus_hash = h.hexdigest()[:16]
        log.info("bm25: indexed %d documents", len(self._doc_ids))

    # -- Scorer ----------------------------------------------------------------------------
    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        new = {}
        for p in pairs:
            pos = self._position.get(p.doc_id)
            if pos is None:
                new.setdefault(p.doc_id, p.doc_text)
            elif self._doc_sha[pos] != _sha(p.doc_text):
                raise DataError(f"document {p.doc_id!r} differs from the indexed text")
        if new or self._model is None:
            if self._frozen:
                raise DataError(
                    f"document {next(iter(new))!r} is not in the loaded bm25 index "
                    "(a loaded index cannot grow; rebuild it with index())"
                )
            if self._corpus_hash is not None:
                log.warning(
                    "bm25: %d documents outside the indexed corpus; IDF now covers all seen",
                    len(new),
                )
                self._corpus_hash = None
            self._add(list(new), list(new.values()))
            self._build()
        by_query: dict[str, np.ndarray] = {}
        out = []
        for p in pairs:
            qtext = join_query(p.query, p.instruction)
            if qtext not in by_query:
                by_query[qtext] = self._all_scores(qtext)
            out.append(float(by_query[qtext][self._position[p.doc_id]]))
        return out

    def _all_scores(self, text: str) -> np.ndarray:
        assert self._model is not None
        tokens = self.tokenize([text])[0]
        ids = self._model.get_tokens_ids(tokens)
        if not ids:
            return np.zeros(len(self._doc_ids), dtype=np.float32)
        return self._model.get_scores_from_ids(ids)

    # -- Retriever -------------------------------------------------------------------------
    def retrieve(self, query: str, instruction: str, k: int) -> dict[str, float]:
        """Top ``k`` of the indexed collection (score desc, doc id desc on ties)."""
        if self._model is None:
            raise RuntimeError("bm25: call index(doc_ids, texts) before retrieve()")
        from followir.models.dense import top_k

        return top_k(self._doc_ids, self._all_scores(join_query(query, instruction)), k)

    def save(self, directory: str | Path) -> Path:
        """bm25s' npy/json index plus the doc ids and the settings that built it."""
        if self._model is None:
            raise RuntimeError("bm25: nothing indexed to save")
        directory = Path(directory)
        self._model.save(str(directory), show_progress=False)
        (directory / DOC_IDS_FILE).write_text(
            json.dumps({"doc_ids": self._doc_ids, "sha256": self._doc_sha})
        )
        settings = {
            "k1": self.k1,
            "b": self.b,
            "stemmer": self.stemmer_name,
            "stopwords": self.stopwords,
            "corpus_hash": self._corpus_hash,
        }
        (directory / SETTINGS_FILE).write_text(json.dumps(settings, indent=1))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> BM25Scorer:
        directory = Path(directory)
        settings_path = directory / SETTINGS_FILE
        if not settings_path.exists():
            raise DataError("not a followir bm25 index (missing settings)", settings_path)
        settings = read_json_file(settings_path)
        scorer = cls(
            k1=settings["k1"],
            b=settings["b"],
            stemmer=settings["stemmer"],
            stopwords=settings["stopwords"],
        )
        ids = read_json_file(directory / DOC_IDS_FILE)
        scorer._model = scorer._bm25s.BM25.load(str(directory), show_progress=False)
        scorer._doc_ids = list(ids["doc_ids"])
        scorer._doc_sha = list(ids["sha256"])
        scorer._position = {d: i for i, d in enumerate(scorer._doc_ids)}
        scorer._corpus_hash = settings.get("corpus_hash")
        num_docs = int(scorer._model.scores["num_docs"])
        if num_docs != len(scorer._doc_ids):
            raise DataError(
                f"index has {num_docs} documents but {len(scorer._doc_ids)} ids",
                directory / DOC_IDS_FILE,
            )
        # tokens are not stored; a loaded index can score and retrieve but not grow
        scorer._tokens = []
        scorer._frozen = True
        return scorer
