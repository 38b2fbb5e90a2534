"""Issue 13: CI floors for the tiered triage on the example sets, and named must-catch cases.

knowledge/triage_examples/*.yaml are the learned layer's TRAINING sets, so these floors catch
regressions (a rule or an example that breaks what worked), not generalisation: the sealed set
measures that, outside CI. Floors sit a little under today's figures (urgent recall 100 %,
urgent-or-check 100 %, unclear flagged 80-93 %, urgent false alarms 0-2.7 % on look-alikes,
0 % on questions and at most a few % on everyday messages).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import KNOWLEDGE
from triage_figures import author_figures

from bot.core.knowledge import load_knowledge
from bot.core.responder import Responder

EXAMPLE_SETS = sorted((KNOWLEDGE / "triage_examples").glob("*.yaml"))
URGENT_RECALL_FLOOR = 0.97
URGENT_OR_CHECK_FLOOR = 0.99
UNCLEAR_FLAGGED_FLOOR = 0.70
FA_LOOKALIKE_CEILING = 0.05
FA_QUESTION_CEILING = 0.02
FA_EVERYDAY_CEILING = 0.05  # everyday messages ("bé nhà mình đang ngủ") given the crisis reply


@pytest.fixture(scope="module")
def responder() -> Responder:
    return Responder(load_knowledge(KNOWLEDGE))


def test_there_are_example_sets() -> None:
    assert len(EXAMPLE_SETS) >= 3


@pytest.mark.parametrize("path", EXAMPLE_SETS, ids=[p.name for p in EXAMPLE_SETS])
def test_tiers_hold_their_floors_on_each_example_set(path: Path, responder: Responder) -> None:
    figures = author_figures(path, responder)["tiers"]
    if figures["urgent"]:  # a file of everyday messages only has no recall to hold
        assert figures["urgent_recall"] >= URGENT_RECALL_FLOOR, figures
        assert figures["urgent_or_check_recall"] >= URGENT_OR_CHECK_FLOOR, figures
    if figures["unclear"] >= 20:
        assert figures["unclear_flagged"] >= UNCLEAR_FLAGGED_FLOOR, figures
    assert figures["fa_lookalike"] <= FA_LOOKALIKE_CEILING, figures
    assert figures["fa_question"] <= FA_QUESTION_CEILING, figures
    if figures["out_of_scope"] >= 20:
        assert figures["fa_out_of_scope"] <= FA_EVERYDAY_CEILING, figures


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("i want to die", "self_harm"),
        ("my uncle touched me", "sexual_abuse"),
        ("mai e ko còn ở đây nữa", "self_harm"),
        ("tay e ko còn chỗ nào lành", "self_harm"),
        ("e uống hết vỉ thuốc ngủ của mẹ rồi", "self_harm"),
        ("bố e đánh e chảy máu đầu, e sợ lắm", "physical_violence"),
    ],
)
def test_must_catch_cases_are_urgent(responder: Responder, text: str, category: str) -> None:
    reply = responder.respond(text)
    assert reply.urgent and reply.category == category, (reply.tier, reply.category)
    assert "111" in reply.parts[0]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("please help me", "distress"),
        ("my uncle touched me", "sexual_abuse"),
        ("i want to die", "self_harm"),
        # not example messages: the same cries inside a longer English message
        ("pls help me, my uncle touched me", "sexual_abuse"),
        ("help me, i want to die", "self_harm"),
    ],
)
def test_english_cries_stay_urgent(responder: Responder, text: str, category: str) -> None:
    reply = responder.respond(text)
    assert reply.urgent and reply.category == category, (reply.tier, reply.category)
    assert "111" in reply.parts[0]


@pytest.mark.parametrize(
    "text",
    [
        "help me pick a song",
        "I'm dying lol this homework",
        # not example messages (english_triage_helper.yaml holds the two above)
        "help me pick a movie for tonight",
        "can u help me pick a song for tiktok",
        "lol im dying, this homework is so long",
        "i'm dying lol this exam",
    ],
)
def test_english_lookalikes_get_no_crisis_reply(responder: Responder, text: str) -> None:
    reply = responder.respond(text)
    assert not reply.urgent, (text, reply.tier, reply.category)
    assert "Em không có lỗi" not in reply.text


def test_bullied_by_a_friend_is_not_trafficking(responder: Responder) -> None:
    # unaccented "ban" is "bạn" (a friend) here, not "bán" (sold)
    reply = responder.respond("e bi ban bat nat tren lop")
    assert reply.category != "trafficking"
    assert "việc nhẹ lương cao" not in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "giáo viên cần làm gì khi học sinh kể bị xâm hại",
        "Trẻ em bị xâm hại có được trợ giúp pháp lý miễn phí không?",
        "Kế hoạch hỗ trợ can thiệp trẻ bị xâm hại phải làm trong mấy ngày?",
    ],
)
def test_teacher_procedure_questions_get_no_crisis_reply(responder: Responder, text: str) -> None:
    for audience in ("teacher", None):
        reply = responder.respond(text, audience)
        assert not reply.urgent, (text, audience)
        assert "Em không có lỗi" not in reply.text
