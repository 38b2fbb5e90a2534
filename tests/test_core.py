"""The core path every edge shares: what a child, a parent or a teacher is actually told."""

from pathlib import Path

import pytest

from bot.core.knowledge import load_knowledge
from bot.core.matching import Thresholds
from bot.core.responder import Responder

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="module")
def responder(kb):
    return Responder(kb)


def test_hotline_question_is_answered_with_111(responder):
    reply = responder.respond("tổng đài bảo vệ trẻ em số mấy")
    assert reply.band == "answer" and not reply.urgent
    assert reply.entry_id == "tong-dai-111"
    assert reply.parts[0].splitlines()[0].startswith("111")


def test_urgent_reply_comes_first_and_alone(responder):
    reply = responder.respond("bố em say rượu đánh em chảy máu")
    assert reply.urgent and reply.category
    first = reply.parts[0]
    assert "111" in first and "113" in first and "115" in first
    assert "không có lỗi" in first.lower()
    # The knowledge answer is a separate message after the urgent one.
    assert reply.entry_id is not None
    assert len(reply.parts) == 2
    assert reply.parts[1] == responder.kb.entries[reply.entry_id].answer_for("child")


def test_a_knowledge_match_cannot_suppress_the_urgent_reply(responder):
    question = "tổng đài bảo vệ trẻ em số mấy"
    assert responder.respond(question).band == "answer"
    reply = responder.respond("chú hàng xóm sờ vào chỗ kín của em. " + question)
    assert reply.urgent
    assert reply.parts[0] != responder.kb.entries["tong-dai-111"].answer_for(None)
    assert "111" in reply.parts[0]


def test_urgent_in_a_very_long_message_is_found(responder):
    filler = "hôm nay em đi học về và kể chuyện ở lớp cho mẹ nghe. " * 360
    reply = responder.respond(filler + "e mun chet")
    assert len(filler) > 19_000
    assert reply.urgent and reply.category == "self_harm"


def test_parent_report_gets_adult_words(responder, kb):
    reply = responder.respond("con tôi bị bố dượng đánh chảy máu")
    assert reply.urgent
    child_reply = responder.respond("bố dượng đánh em chảy máu")
    assert child_reply.urgent
    assert reply.parts[0] != child_reply.parts[0]
    as_parent = responder.respond("con tôi bị bố dượng đánh chảy máu", "parent")
    assert reply.parts[0] == as_parent.parts[0]


def test_child_gets_the_child_variant(responder, kb):
    entry = next(e for e in kb.entries.values() if e.answer_for("child") != e.answer_for(None))
    reply = responder.answer_entry(entry.id, "child")
    assert reply.parts == (entry.answer_for("child"),)
    assert responder.answer_entry(entry.id, "parent").parts[0] == entry.answer_for("parent")


@pytest.mark.parametrize("text", ["giá vàng hôm nay", "thời tiết Hà Nội"])
def test_out_of_scope_gets_the_fallback_not_a_wrong_answer(responder, text):
    reply = responder.respond(text)
    assert reply.entry_id is None and not reply.urgent
    assert reply.band == "fallback"
    assert "111" in reply.text


@pytest.mark.parametrize("text", ["kết quả bóng đá tối qua", "cách nấu phở bò", "học tiếng anh"])
def test_out_of_scope_is_never_answered(responder, text):
    reply = responder.respond(text)
    assert reply.entry_id is None and not reply.urgent


def test_middle_band_offers_three_titles_and_answers_nothing(kb):
    always_unsure = Responder(kb, Thresholds(high=101, low=0))
    reply = always_unsure.respond("tổng đài bảo vệ trẻ em số mấy")
    assert reply.band == "did-you-mean" and reply.entry_id is None
    assert len(reply.suggestions) == 3
    assert reply.suggestions[0].entry_id == "tong-dai-111"
    assert all(s.title == kb.entries[s.entry_id].title for s in reply.suggestions)
    assert reply.text == kb.ui.did_you_mean


def test_bands_follow_the_configured_thresholds(kb):
    never_sure = Responder(kb, Thresholds(high=101, low=100.5))
    reply = never_sure.respond("tổng đài bảo vệ trẻ em số mấy")
    assert reply.band == "fallback" and reply.entry_id is None and not reply.suggestions


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("xin chào", "xin chào"), ("chao ban", "xin chào"), ("cảm ơn", "cảm ơn"),
     ("bạn là ai", "bạn là ai"), ("ok cam on nha bye", "cảm ơn"),
     ("dạ em chào bot ạ", "xin chào")],
)
def test_small_talk_gets_its_own_curated_reply(responder, text, phrase):
    # The reply of the ui.yaml small-talk group that lists `phrase` (typed with or without
    # diacritics), and never an urgent or knowledge answer.
    talk = next(t for t in responder.ui.smalltalk if phrase in t.phrases)
    reply = responder.respond(text)
    assert reply.band == "smalltalk" and not reply.urgent and reply.entry_id is None
    assert reply.text == talk.reply


@pytest.mark.parametrize("text", [None, "", "   ", "😀😀😀", "?!"])
def test_empty_or_symbol_messages_get_a_friendly_answer(responder, text):
    reply = responder.respond(text)
    assert reply.band == "fallback" and "111" in reply.text


def test_related_entries_carry_titles(responder, kb):
    reply = responder.respond("tổng đài bảo vệ trẻ em số mấy")
    entry = kb.entries[reply.entry_id]
    assert [s.entry_id for s in reply.related] == entry.related
    assert all(s.title == kb.entries[s.entry_id].title for s in reply.related)


def test_hotline_card_lists_only_card_lines(responder, kb):
    card = responder.hotline_card()
    for line in kb.hotlines:
        assert (f"- {line.number}:" in card) == line.on_card
    assert card.index("111") < card.index("113")


def test_every_topic_of_the_menu_has_entries(responder, kb):
    for topic in kb.ui.topics:
        assert responder.topic_entries(topic.tag), topic.label


def test_unknown_entry_button_is_not_an_error(responder):
    assert responder.answer_entry("khong-con-ton-tai") is None


def test_repeated_messages_keep_their_audience(kb):
    responder = Responder(kb)
    entry, question = next(
        (e, q) for e in kb.entries.values() for q in e.questions
        if e.answer_for("child") != e.answer_for("parent")
        and Responder(kb, cache_size=0).respond(q, "child").entry_id == e.id
    )
    first = responder.respond(question, "child")
    assert first.entry_id == entry.id and first.parts[0] == entry.answer_for("child")
    assert responder.respond(question, "child") == first
    assert responder.respond(question, "parent").parts[0] == entry.answer_for("parent")
    assert responder.respond(question, None) == Responder(kb, cache_size=0).respond(question)
