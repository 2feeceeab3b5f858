"""Composing from passages: table rows, empty headings, the value a comparison compares, the passage chosen."""

from app.agents.compose import best_hit, compare, drop_empty_headings, excerpt, trim_tables, value_line
from app.knowledge.search import SearchHit

PRICES = """**Delivery options**

| Option | Price | Arrives |
|---|---|---|
| Standard | $5.95 | 3-5 days |
| Express | $12.95 | 2 days |
| Next day | $24.95 | next working day |
| Store pickup | free | same day |
| Freight | $49.00 | 5-10 days |"""


def test_a_table_keeps_its_header_and_only_the_rows_asked_about() -> None:
    trimmed = trim_tables(PRICES, "how much is next day delivery?")
    assert "| Next day | $24.95 | next working day |" in trimmed
    assert "| Option | Price | Arrives |" in trimmed and "|---|---|---|" in trimmed
    assert "Express" not in trimmed and "Freight" not in trimmed


def test_an_answer_never_ends_on_a_heading_with_nothing_under_it() -> None:
    assert drop_empty_headings("Returns are free.\n\n**Exchanges**") == "Returns are free."
    assert drop_empty_headings("**Refunds**\n\nWithin 5 days.") == "**Refunds**\n\nWithin 5 days."
    text = excerpt("Intro line.\n\n**Fees**\n\n- Annual fee: $0.00\n\n**Notes**", "annual fee", 400)
    assert text.endswith("$0.00") and "Notes" not in text


def test_the_value_line_is_the_row_that_answers_with_its_figure_as_written() -> None:
    line, value, unit, spelled = value_line(PRICES, "next day delivery price")
    assert "Next day" in line and value == 24.95 and unit == "$" and spelled == "$24.95"
    rates = "- Purchase APR: 18.99% variable\n- Late fee: $25.00\n- Cash advance APR: 26.99%"
    assert value_line(rates, "purchase APR")[3] == "18.99%"


def _hit(doc: str, score: float, content: str) -> SearchHit:
    return SearchHit(doc, content, {"doc_id": doc, "title": doc, "source": f"{doc}.md"}, 1 - score, score)


def test_a_nearly_as_close_passage_that_says_what_was_asked_beats_one_sharing_a_keyword() -> None:
    hits = [_hit("payments", 0.76, "Your minimum monthly payment is 1% of the balance."),
            _hit("apply", 0.73, "You need a minimum credit score of 640 to apply."),
            _hit("far", 0.50, "Credit score checks are soft.")]
    assert best_hit("min credit score for the card?", hits).id == "apply"
    assert best_hit("minimum monthly payment?", hits).id == "payments"


def _titled(doc: str, title: str, score: float, content: str) -> SearchHit:
    return SearchHit(doc, content, {"doc_id": doc, "title": title, "source": f"{doc}.md"}, 1 - score, score)


PROMO = """## Promotional rate
- Introductory APR for new customers: 0%
- Standard APR after the promotional period: {standard}

## Offer window
- Open your account by 2025-12-31"""


def test_a_comparison_sets_the_same_attribute_of_both_options_side_by_side() -> None:
    # Both promo pages state the same introductory 0% and a different standard APR: the standard APRs are
    # what tells the cards apart, never one card's 0% against the other's standard rate.
    north = [_titled("north-promo", "North Card: New customer promo", 0.8, PROMO.format(standard="17.99%")),
             _titled("north-business", "Business North Card: Rates", 0.79, "- Purchase APR: 9.99%")]
    south = [_titled("south-promo", "South Card: New customer promo", 0.8,
                     "Balances carried after the first year accrue interest at the standard APR of 22.49%.\n\n"
                     + PROMO.format(standard="22.49%"))]
    sides = compare("card APR", [("North", "lower APR North", north), ("South", "lower APR South", south)])
    assert [s.hit.id for s in sides if s.hit] == ["north-promo", "south-promo"]
    assert [s.figure.spelled for s in sides if s.figure] == ["17.99%", "22.49%"]
    assert all("Standard APR" in s.figure.line for s in sides if s.figure)


def test_a_comparison_reads_only_passages_about_the_named_option() -> None:
    hits = [_titled("other", "Summit Card: Rates", 0.82, "- Annual fee: $95.00"),
            _titled("named", "Harbor Card: Rates", 0.80, "- Annual fee: $0.00")]
    other = [_titled("b", "Delta Card: Rates", 0.8, "- Annual fee: $45.00")]
    sides = compare("annual fee", [("Harbor", "Harbor annual fee", hits), ("Delta", "Delta annual fee", other)])
    assert sides[0].hit is not None and sides[0].hit.id == "named" and sides[0].figure.spelled == "$0.00"
    assert sides[1].figure is not None and sides[1].figure.spelled == "$45.00"
