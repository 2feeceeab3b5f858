"""Composing from passages: table rows, empty headings, the value a comparison compares, the passage chosen."""

from app.agents.compose import (
    adds,
    best_hit,
    cited_as,
    compare,
    drop_empty_headings,
    excerpt,
    lead_with_answer,
    trim_tables,
    value_line,
)
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


def test_the_answer_leads_and_a_passage_that_opens_with_its_rule_keeps_its_order() -> None:
    passage = ("We want every parcel to arrive on time.\n\n**Lost parcels**\n\nIf your parcel has not arrived "
               "10 days after dispatch, we send a replacement free of charge.")
    led = lead_with_answer(passage, "my parcel has not arrived, will you send a replacement?")
    assert led.startswith("**Lost parcels**\n\nIf your parcel has not arrived")
    assert led.endswith("on time.")
    ruled = "Items can be returned within 30 days.\n\n**Exceptions**\n\nGift cards cannot be returned."
    assert lead_with_answer(ruled, "how many days do I have to return items?") == ruled


def test_a_joined_passage_is_cited_by_the_section_it_quotes() -> None:
    hit = SearchHit("c:1", "**Fees**\n\n- Annual fee: $0.00\n\n**Rewards**\n\n- 2% cash back",
                    {"doc_id": "c", "title": "Harbor Card", "section": "Fees", "sections": ["Fees", "Rewards"],
                     "source": "c.md"}, 0.2, 0.8)
    cited, text = cited_as(hit, "**Rewards**\n\n- 2% cash back")
    assert cited.metadata["section"] == "Rewards" and "sections" not in cited.metadata
    assert text == "- 2% cash back"  # the section is named in the citation, not repeated as a bare heading
    both, _ = cited_as(hit, hit.content)
    assert both.metadata["sections"] == ["Fees", "Rewards"]


def test_a_second_passage_must_say_something_asked_that_the_first_does_not() -> None:
    first = "- Annual fee: $0.00\n- Foreign transaction fee: 3%"
    assert not adds(first, "The annual fee is $0.00 for every cardholder.", "annual fee on the Harbor Card")
    assert adds(first, "Cash advances cost 5% of the amount.", "annual fee and cash advance cost")
