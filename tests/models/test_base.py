"""One joiner for query + instruction, shared by every family that concatenates them."""

import pytest

from followir.models.base import join_query, join_text
from followir.models.formats import get_format
from followir.models.templates import get_template


@pytest.mark.parametrize(
    ("query", "instruction", "joined"),
    [
        ("cats", "Documents about dogs are not relevant.", "cats Documents about dogs are not relevant."),
        ("cats", "", "cats"),  # no dangling separator
        ("  cats ", "\nnarrative\n", "cats narrative"),  # stray whitespace never reaches a prompt
        ("", "only an instruction", "only an instruction"),
    ],
)
def test_join_query(query, instruction, joined):
    assert join_query(query, instruction) == joined


def test_families_join_the_same_way():
    """The plain bi-encoder query and every pointwise template's query line read the same
    text (BM25 and the cross-encoder call join_query directly)."""
    q, i = " cats ", "\nabout pets\n"
    assert get_format("plain").query(q, i).full == "cats about pets"
    assert get_format("instruction-first").query(q, i).full == join_text(i, q) == "about pets cats"
    for name in ("followir", "mistral"):
        rendered = get_template(name, ("causal",)).render(q, i, "DOC")
        assert "Query: cats about pets\n" in rendered, name
    assert "Query: cats about pets Document: DOC Relevant:" in get_template("monot5", ("seq2seq",)).render(q, i, "DOC")
