from app.knowledge.chunking import split_markdown

DOC = """# Returns policy

Short intro.

## What can be returned

Items within 30 days.

1. Pack the item.
2. Print the label.

3. Drop it off.

## Refund timing

### Card payments

Refunds reach cards in 5 to 10 business days, which is how long banks take to post credits back.
""" + ("More detail about card refunds. " * 10) + """

### Gift cards

Gift-card refunds are instant and are added back to the original card balance the moment we scan it.
""" + ("Gift cards never expire. " * 10)


def test_sections_keep_title_and_path_and_short_intro_joins_the_next() -> None:
    chunks = split_markdown(DOC, "fallback")
    assert all(c.title == "Returns policy" for c in chunks)
    assert chunks[0].section == "What can be returned"
    assert chunks[0].text.startswith("Short intro.")
    assert chunks[1].section == "Refund timing > Card payments"  # the empty "Refund timing" adds no chunk
    sections = [c.section for c in chunks]
    assert "Refund timing > Card payments" in sections and "Refund timing > Gift cards" in sections
    card = next(c for c in chunks if c.section.endswith("Card payments"))
    assert card.embedding_text().startswith("Returns policy - Refund timing > Card payments\n")


def test_a_numbered_list_stays_in_one_piece() -> None:
    chunk = split_markdown(DOC, "fallback")[0]
    assert "1. Pack the item.\n2. Print the label.\n3. Drop it off." in chunk.text


def test_long_sections_are_split_with_bounded_size_and_overlap() -> None:
    paragraphs = "\n\n".join(f"Paragraph {i}. " + "word " * 40 for i in range(30))
    chunks = split_markdown(f"# Big\n\n## Part\n\n{paragraphs}", "x", max_chars=600, overlap_chars=300)
    assert len(chunks) > 5
    assert all(len(c.text) <= 600 + 300 for c in chunks)
    # Consecutive chunks share a paragraph, so a fact on a boundary is in both.
    assert chunks[0].text.split("\n\n")[-1] == chunks[1].text.split("\n\n")[0]


def test_text_without_headings_uses_the_fallback_title() -> None:
    chunks = split_markdown("just some plain text from a PDF " * 5, "Gift cards")
    assert len(chunks) == 1 and chunks[0].title == "Gift cards" and chunks[0].section == ""


def test_empty_document_has_no_chunks() -> None:
    assert split_markdown("   \n\n", "x") == []
