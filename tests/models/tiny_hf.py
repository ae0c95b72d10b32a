"""Tiny random-weight Hugging Face models built inside a test, so no test downloads anything.

A WordPiece tokenizer is trained with ``tokenizers`` on a few sentences and a 2-layer BERT
with random weights is saved beside it; sentence-transformers then loads the directory as
a bi-encoder or a cross-encoder.
"""

from __future__ import annotations

from pathlib import Path

SENTENCES = [
    "the cat sat on the mat",
    "dogs chase cats across the garden",
    "a document about elections and politics in europe",
    "relevant documents mention trade agreements",
    "ignore anything about sports or weather",
    "instructions describe which documents are relevant",
    "the quick brown fox jumps over the lazy dog",
]


def build_tokenizer(path: Path):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(SENTENCES, trainers.WordPieceTrainer(vocab_size=200, special_tokens=special))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
    )
    fast.save_pretrained(path)
    return fast


def _config(vocab_size: int, num_labels: int | None = None):
    from transformers import BertConfig

    kwargs = {"num_labels": num_labels} if num_labels else {}
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        **kwargs,
    )


def build_bi_encoder(path: Path) -> Path:
    """A saved sentence-transformers model (BERT + mean pooling) with random weights."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertModel

    torch.manual_seed(0)
    hf = path / "hf"
    tok = build_tokenizer(hf)
    BertModel(_config(len(tok))).save_pretrained(hf)
    word = Transformer(str(hf), max_seq_length=64)
    pooling = Pooling(word.get_embedding_dimension(), "mean")
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(path / "st"))
    return path / "st"


def build_cross_encoder(path: Path) -> Path:
    """A saved BERT sequence classifier (one label) that CrossEncoder(path) loads."""
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    tok = build_tokenizer(path)
    BertForSequenceClassification(_config(len(tok), num_labels=1)).save_pretrained(path)
    return path
