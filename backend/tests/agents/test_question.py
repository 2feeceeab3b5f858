"""How a question is read: one thing, several parts, or a choice between two named options."""

from app.agents.question import plan


def test_a_choice_between_two_named_options_is_a_comparison_with_a_direction() -> None:
    shape = plan("Which card has a lower APR: Harbor Card or Summit Card?")
    assert shape.kind == "comparison"
    assert shape.labels == ["Harbor Card", "Summit Card"]
    assert shape.direction == "min"
    assert shape.parts == ["Which card has a lower APR: Harbor Card?", "Which card has a lower APR: Summit Card?"]
    assert "APR" in shape.aspect


def test_words_after_the_second_option_describe_both() -> None:
    shape = plan("Does Alpine Plan or Coastal Plan business checking cost less each month?")
    assert shape.kind == "comparison" and shape.labels == ["Alpine Plan", "Coastal Plan"]
    assert shape.parts[1] == "Does Coastal Plan business checking cost less each month?"
    assert plan("which savings account pays more, Gold or Platinum?").direction == "max"


def test_an_either_or_question_without_a_contest_is_one_question() -> None:
    assert plan("can i pay by card or paypal?").kind == "single"
    assert plan("How do I reset my password?").kind == "single"


def test_a_subject_with_two_asks_is_split_and_each_part_keeps_the_subject() -> None:
    shape = plan("Harbor Card: annual fee and APR?")
    assert shape.kind == "parts"
    assert shape.parts == ["Harbor Card annual fee", "Harbor Card APR"]
    assert shape.labels == ["Annual fee", "APR"]


def test_two_questions_joined_by_and_are_two_parts_and_the_second_gets_the_subject_back() -> None:
    shape = plan("how much is next day delivery and how long does it take?")
    assert shape.kind == "parts" and len(shape.parts) == 2
    assert "next day delivery" in shape.parts[1]
    shape = plan("How long do I have to return an item? Who pays for return shipping?")
    assert shape.parts == ["How long do I have to return an item?", "Who pays for return shipping?"]


def test_a_long_message_is_searched_whole_not_cut_into_parts() -> None:
    story = "How do I reset my password? " + "I have read the help pages already, please explain. " * 20
    assert plan(story).kind == "single" and plan(story).parts == [story]


def test_the_customers_situation_before_a_question_is_its_context_not_a_part() -> None:
    shape = plan("my parcel has still not arrived, will you send a replacement?")
    assert shape.kind == "single"
    assert plan("I lost my card and how do I order a new one?").kind == "single"
    split = plan("Reset my password, and how long does delivery take?")
    assert split.kind == "parts" and len(split.parts) == 2
