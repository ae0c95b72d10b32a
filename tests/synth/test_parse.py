from followir.synth.parse import collapse_repetition, parse_documents


def test_requested_layout_with_markdown_and_blank_lines():
    text = (
        "Sure! Here are the documents you asked for.\n\n"
        "**Relevant Option 1:** The Cali cartel exported cocaine to Europe.\n\n"
        "Relevant Option 2:\nPolice in Bogota named the Medellin cartel\nas the smuggler.\n\n"
        "### Not Relevant Option 1: Drug trade is a global problem.\n"
        "- Not relevant option 2 - Weather was fine in Lima.\n"
    )
    docs = parse_documents(text)
    assert docs.relevant == [
        "The Cali cartel exported cocaine to Europe.",
        "Police in Bogota named the Medellin cartel as the smuggler.",
    ]
    assert docs.nonrelevant == ["Drug trade is a global problem.", "Weather was fine in Lima."]


def test_sections_with_numbered_items_inherit_the_section_label():
    text = (
        "## Relevant documents\n1. First relevant text.\n2) Second relevant text.\n\n"
        "## Irrelevant documents\n1. An off-topic text.\n"
    )
    docs = parse_documents(text)
    assert docs.relevant == ["First relevant text.", "Second relevant text."]
    assert docs.nonrelevant == ["An off-topic text."]


def test_label_after_the_index_and_colons_inside_documents():
    text = "Option 1 (relevant): A report.\nIn 1994: the cartel grew.\nDocument 2 (non-relevant): Other."
    docs = parse_documents(text)
    assert docs.relevant == ["A report. In 1994: the cartel grew."]
    assert docs.nonrelevant == ["Other."]


def test_fewer_options_than_asked_and_unlabelled_text():
    assert parse_documents("Relevant Option 1: only one.").relevant == ["only one."]
    assert parse_documents("Relevant Option 1: only one.").nonrelevant == []
    assert len(parse_documents("I cannot help with that request.")) == 0


def test_repetition_loops_are_cut():
    assert collapse_repetition("It rained. It rained. It rained. Then sun.") == "It rained. Then sun."
    assert collapse_repetition("the cartel the cartel the cartel the cartel grew") == "the cartel grew"
    docs = parse_documents("Not Relevant Option 1: " + "Prices rose. " * 40)
    assert docs.nonrelevant == ["Prices rose."]


def test_numbered_item_with_a_not_relevant_label_is_not_relevant():
    # label 0 is a label: a "2. Not relevant:" item must not inherit the relevant section
    docs = parse_documents("1. Relevant: The cartel shipped cocaine.\n2. Not relevant: Rain fell in Lima.")
    assert docs.relevant == ["The cartel shipped cocaine."]
    assert docs.nonrelevant == ["Rain fell in Lima."]
