"""The article about the product the question names beats a sibling product's (same words plus one)."""

from app.knowledge.search import SearchHit
from app.knowledge.subject import rerank, subject_terms


def _hit(title: str, score: float) -> SearchHit:
    return SearchHit(title, "text", {"title": title, "doc_id": title}, 1 - score, score)


def test_a_sibling_subject_with_a_word_the_question_does_not_say_drops_below_the_named_one() -> None:
    hits = [_hit("Business Harbor Card: Annual fee", 0.84), _hit("Harbor Card: Getting started", 0.77),
            _hit("Summit Card: Annual fee", 0.75)]
    ranked = rerank("What is the annual fee on the Harbor Card?", hits)
    assert [h.id for h in ranked][:2] == ["Harbor Card: Getting started", "Business Harbor Card: Annual fee"]
    assert ranked[1].signals["subject_penalty"] > 0


def test_a_question_naming_the_qualifier_keeps_the_qualified_article_first() -> None:
    hits = [_hit("Harbor Card: Promo APR", 0.78), _hit("Business Harbor Card: Rates", 0.76)]
    assert rerank("Business Harbor Card APR", hits)[0].id == "Business Harbor Card: Rates"


def test_titles_without_a_subject_or_without_siblings_keep_their_order() -> None:
    hits = [_hit("How do I reset my password?", 0.8), _hit("Resetting a password on the app", 0.79)]
    assert rerank("reset password", hits) == hits
    assert subject_terms("How do I reset my password?") is None
    alone = [_hit("Tracking: where is my order", 0.8), _hit("Returns policy: 30 days", 0.7)]
    assert [h.id for h in rerank("where is my order", alone)] == [h.id for h in alone]
