"""Tiny local models for tests: random weights, tokenizers trained on a few sentences.

Nothing here touches the network.  Weights are drawn with a wide init (std 0.2) so that
changing a few input tokens visibly moves the answer logits.
"""

from __future__ import annotations

from pathlib import Path

SENTENCES = [
    "true false yes no true false yes no",
    "true. false. yes. no.",
    "Query: what is the capital of France Document: Paris is the capital. Relevant: true",
    "Query: recipes for cake Document: The stock market fell. Relevant: false",
    "You are an expert Google searcher, whose job is to determine if the following "
    "document is relevant to the query (true/false). Answer using only one word, one of "
    "those two choices.",
    'Relevant (only output one word, either "true" or "false"): [INST] [/INST] true',
    'Relevant (either "true" or "false"): [/INST] false',
    "Is the following passage relevant to the query? Query: Passage: yes no",
    "A relevant document describes a movie written by James Cameron only, not directed.",
    "Documents about taxes in 1990 are not relevant. Focus on news about elections.",
    "The quick brown fox jumps over the lazy dog near the river bank at sunset.",
    "instruction [SEP] query document passage answer relevant irrelevant",
    "Query: a\nDocument: b\nRelevant: true\n\nQuery: c\nPassage: d\n",
]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def _bpe_tokenizer(specials: list[str], metaspace: bool):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    if metaspace:  # sentencepiece style: "▁true"
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
    else:  # GPT-2 style: "Ġtrue"
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
    alphabet = [] if metaspace else pre_tokenizers.ByteLevel.alphabet()  # every byte, incl. "\n"
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, min_frequency=1, initial_alphabet=alphabet
    )
    tok.train_from_iterator(SENTENCES * 3, trainer=trainer)
    return tok


def build_causal_lm(path: Path, seed: int = 0) -> Path:
    """A 2-layer Llama with a byte-level BPE tokenizer that adds BOS and has a chat template."""
    import torch
    from tokenizers import processors
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = _bpe_tokenizer(["<unk>", "<s>", "</s>", "<pad>", "<|user|>", "<|assistant|>"], False)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(path)
    config = LlamaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        initializer_range=0.2,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(path)
    return path


def _t5_tokenizer():
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    tok = _bpe_tokenizer(["<pad>", "</s>", "<unk>"], True)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return tok, PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )


def _t5_config(vocab: int):
    from transformers import T5Config

    return T5Config(
        vocab_size=vocab,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        initializer_factor=1.5,
        dropout_rate=0.0,
    )


def build_t5(path: Path, seed: int = 0) -> Path:
    """A 2+2-layer T5ForConditionalGeneration with a sentencepiece-style BPE tokenizer."""
    import torch
    from transformers import T5ForConditionalGeneration

    tok, fast = _t5_tokenizer()
    fast.save_pretrained(path)
    torch.manual_seed(seed)
    T5ForConditionalGeneration(_t5_config(tok.get_vocab_size())).save_pretrained(path)
    return path


def build_tart(path: Path, seed: int = 0) -> Path:
    """A TART-style EncT5 checkpoint: T5 encoder weights + ``classifier`` (2 labels)."""
    import json

    import torch
    from safetensors.torch import load_file, save_file
    from transformers import T5EncoderModel

    tok, fast = _t5_tokenizer()
    fast.save_pretrained(path)
    torch.manual_seed(seed)
    config = _t5_config(tok.get_vocab_size())
    T5EncoderModel(config).save_pretrained(path)
    state = load_file(path / "model.safetensors")
    head = torch.nn.Linear(config.d_model, 2)
    state["classifier.weight"] = head.weight.detach().clone()
    state["classifier.bias"] = head.bias.detach().clone()
    save_file(state, path / "model.safetensors", metadata={"format": "pt"})
    cfg = json.loads((path / "config.json").read_text())
    cfg["architectures"] = ["EncT5ForSequenceClassification"]
    (path / "config.json").write_text(json.dumps(cfg))
    return path
