"""Issue 13: three tiers from the learned layer, speaker and reader, bad input, broken examples."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from conftest import KNOWLEDGE

from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.responder import Responder


@pytest.fixture(scope="module")
def responder() -> Responder:
    return Responder(load_knowledge(KNOWLEDGE))


def test_clear_disclosure_is_urgent_alone_first(responder: Responder) -> None:
    reply = responder.respond("bố e đánh e chảy máu đầu, e sợ lắm")
    assert reply.urgent and reply.tier == "urgent" and not reply.check
    assert "111" in reply.parts[0]


@pytest.mark.parametrize(
    ("text", "category"),
    [("cứu", "distress"), ("SOS", "distress"), ("em sợ quá", "distress"),
     ("e bi bat coc r", "kidnapping"), ("em bị trói", "neglect")],
)
def test_a_message_that_is_only_a_cry_gets_the_urgent_reply_first(
    responder: Responder, text: str, category: str
) -> None:
    # One word gives the learned model little to read ("cứu" alone: P(danger) 0.10): a cry
    # listed in danger.yaml's short_messages is urgent whatever it rates, not a first-aid
    # disclaimer with the 111 line under it.
    reply = responder.respond(text)
    assert reply.urgent and reply.category == category, (reply.tier, reply.category)
    assert "111" in reply.parts[0] and not reply.check


def test_doubtful_message_gets_check_line_and_button_turns_it_urgent(
    responder: Responder,
) -> None:
    texts = ["dạo này e hay bị chú hàng xóm nhìn chằm chằm, e thấy sợ sợ",
             "bạn e mấy hôm nay ko đi học, hỏi thì bạn ấy bảo ở nhà bị nhốt",
             "e ko muốn về nhà chút nào"]
    checked = [responder.respond(t) for t in texts]
    doubtful = [r for r in checked if r.check]
    assert doubtful, [(r.tier, r.text[:40]) for r in checked]
    for reply in doubtful:
        assert not reply.urgent
        assert reply.parts[-1] == responder.ui.check_line
    pressed = responder.confirm_urgent(texts[checked.index(doubtful[0])])
    assert pressed.urgent and "111" in pressed.parts[0]


@pytest.mark.parametrize("text", [
    "có anh trên mạng hay nạp thẻ game cho em, bảo đừng nói với bố mẹ",
    "chú hàng xóm bảo e giữ bí mật ko đc kể vs ai, có nên giữ ko",
    "ny quen qua game muon e gui anh mac do ngu xem thu",
    "bé kể tối bị người quen của má cho coi phim người lớn trên điện thoại",
])
def test_signs_of_grooming_get_at_least_the_check_line(responder: Responder, text: str) -> None:
    """Gifts with a secret, a secret an adult imposes, a request for photos in nightwear:
    the signs a child may not see as danger get the 111 line and button (round 26's misses),
    and pressing the button turns them into the urgent reply."""
    reply = responder.respond(text)
    assert reply.check or reply.urgent, reply.text[:80]
    if reply.check:
        assert reply.check_button is not None
        assert responder.confirm_urgent(text).urgent


def test_an_ordinary_gift_or_secret_gets_no_check_line(responder: Responder) -> None:
    for text in ("mẹ nạp thẻ game cho em", "em với bạn thân có bí mật riêng"):
        reply = responder.respond(text)
        assert not reply.check and not reply.urgent, text


def test_teacher_procedure_question_gets_no_child_crisis_text(responder: Responder) -> None:
    for text in ["giáo viên cần làm gì khi học sinh kể bị xâm hại",
                 "Trẻ em bị xâm hại có được trợ giúp pháp lý miễn phí không?"]:
        reply = responder.respond(text, "teacher")
        assert not reply.urgent, text
        assert "Em không có lỗi" not in reply.text


def test_check_line_and_button_are_worded_for_the_reader(responder: Responder) -> None:
    """A teacher's doubtful question is not answered as if a child wrote it, and a child's is
    not answered as if an adult did."""
    ui = responder.ui
    question = "giáo viên cần làm gì khi học sinh kể bị xâm hại"
    for audience in ("teacher", None):  # chosen with /vaitro, or stated in the message
        reply = responder.respond(question, audience)
        assert reply.check and not reply.urgent
        assert reply.parts[-1] == ui.check_line_adult
        assert ui.check_line not in reply.text
        assert reply.check_button is not None
        assert reply.check_button.label == ui.check_button_adult
    child = responder.respond("e ko muốn về nhà chút nào", "child")
    assert child.check
    assert child.parts[-1] == ui.check_line
    assert child.check_button is not None
    assert child.check_button.label == ui.check_button_child


def test_doubtful_injury_names_115_before_111(responder: Responder) -> None:
    """A burn or a fall the bot is not sure is happening now still tells the reader to call
    the ambulance first: the accident category's own check line, not the 111 line."""
    accident = responder.kb.danger.categories["accident_medical"]
    assert accident.check_line and accident.check_line_adult
    for text, audience, line in [
        ("bé nhà mình bị bỏng nước sôi", "parent", accident.check_line_adult),
        ("e bị bỏng nước sôi ở tay", "child", accident.check_line),
    ]:
        reply = responder.respond(text, audience)
        if reply.check:  # doubtful: the answer, then the accident's own line and button
            assert reply.parts[-1] == line
            assert reply.check_button is not None
            assert reply.check_button.category == "accident_medical"
        else:  # sure: the urgent accident card
            assert reply.urgent and reply.category == "accident_medical", text
        first = reply.text if reply.check else reply.parts[0]
        assert first.index("115") < first.index("111"), reply.text


def test_check_line_under_a_fallback_is_the_only_mention_of_111(responder: Responder) -> None:
    """A doubtful message nothing in the knowledge base answers: the reader sees 111 once
    (the check line), not once in the fallback and again below it."""
    reply = responder.respond("e ko muốn về nhà chút nào")
    assert reply.check and reply.band == "fallback"
    assert reply.text.count("111") == 1
    assert reply.parts == (responder.ui.fallback_checked, responder.ui.check_line)
    plain = responder.respond("giá vàng hôm nay bao nhiêu")
    assert not plain.check and "111" in plain.text  # a plain fallback still names 111


def test_a_doubtful_message_is_not_told_the_bot_did_not_understand(responder: Responder) -> None:
    """A parent writing "bé bị sốt co giật" must not read "Xin lỗi, mình chưa hiểu câu này" as
    the first words: a doubtful danger with no answer opens with what to do if it is happening."""
    reply = responder.respond("e ko muốn về nhà chút nào")
    assert reply.check and reply.band == "fallback"
    first = reply.parts[0]
    assert "chưa hiểu câu này" not in first
    assert "nguy hiểm ngay lúc này" in first and "gọi ngay" in first


def test_invisible_characters_do_not_hide_danger(responder: Responder) -> None:
    plain = responder.respond("bố đánh em chảy máu")
    hidden = responder.respond("bố\u200b đá\u00adnh em chảy\u202e máu")
    assert plain.urgent and hidden.urgent


@pytest.mark.parametrize("text", ["a" * 20_000, "😀" * 50, "Z̸̡̢͈͓a̷̝͊l̴̨͖g̶̙̈́o̸̧͎", "Привет こんにちは bố ơi"])
def test_bad_input_answered_fast(responder: Responder, text: str) -> None:
    start = time.perf_counter()
    reply = responder.respond(text)
    assert reply.parts
    assert time.perf_counter() - start < 0.5


def test_broken_examples_file_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy)
    bad = copy / "triage_examples" / "broken.yaml"
    bad.write_text("urgent:\n  - {text: 'bố đánh em', kind: not_a_kind}\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(copy)
    assert any("broken.yaml:2" in issue for issue in caught.value.issues), caught.value.issues
