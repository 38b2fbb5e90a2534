"""The guided report (/baotin): the core state machine, and the whole report over Telegram."""

from __future__ import annotations

import html

import pytest
from conftest import RunningBot
from fakebotapi import Sent

from bot.core.guided_report import SKIP, GuidedReport
from bot.core.provinces import PROVINCE_COUNT, find_province, provinces
from bot.core.responder import Responder
from bot.telegram import render as tui

CHAT = 2001


@pytest.fixture
def responder(shared_responder: Responder) -> Responder:
    return shared_responder


def test_provinces_are_the_34_units_since_july_2025() -> None:
    places = provinces()
    assert len(places) == PROVINCE_COUNT == 34
    names = {place.short for place in places}
    # Merged away on 1/7/2025 (Nghị quyết 202/2025/QH15): absent; the merged units: present.
    for gone in ("Hải Dương", "Hà Nam", "Nam Định", "Bắc Kạn"):
        assert gone not in names
    for kept in ("Hải Phòng", "Ninh Bình", "Thái Nguyên", "Hà Nội", "Hồ Chí Minh"):
        assert kept in names
    assert find_province("ha noi") == next(p for p in places if p.short == "Hà Nội")
    assert find_province("Thành phố Huế") is not None
    assert find_province("Hải Dương") is None  # no longer a province: not guessed


def test_every_question_can_be_skipped_and_the_summary_still_helps(responder: Responder) -> None:
    report = GuidedReport()
    turn = report.start("k", responder, 0.0)
    texts = responder.ui.report
    steps = []
    now = 1.0
    while turn[-1].step is not None:
        steps.append(turn[-1].step)
        assert SKIP in [choice.code for choice in turn[-1].choices]
        turn = report.choose("k", responder, turn[-1].step, SKIP, now)
        now += 1
    assert steps == ["who", "danger", "harm", "age", "province", "since", "nearby"]
    assert texts.summary_intro in turn[-1].text and texts.summary_empty in turn[-1].text
    assert [copy.code for copy in turn[-1].copies][0] == "111"
    assert not report.active("k", now)  # the answers are gone once the summary is out


def test_typed_answers_are_read_and_echoed(responder: Responder) -> None:
    report = GuidedReport()
    texts = responder.ui.report
    report.start("k", responder, 0)
    for typed in ("ve mot ban khac", "khong", "bi danh", "em 12 tuoi", "sai gon",
                  "Phường Bến Thành", "hom nay", "khong biet"):
        turn = report.type("k", responder, typed, 1)
        assert turn is not None
    summary = turn[-1].text
    for expected in (texts.who.options["other"].says, texts.harm.options["physical_violence"].says,
                     texts.age.options["from11"].says, "Thành phố Hồ Chí Minh",
                     "Phường Bến Thành", texts.since.options["today"].says,
                     texts.nearby.options["unknown"].says):
        assert expected in summary, expected
    # A long summary is copied in pieces of at most 256 characters (Telegram's limit), whole.
    copied = [copy.code for copy in turn[-1].copies[1:]]
    assert all(len(piece) <= 256 for piece in copied)
    assert " ".join(copied) in summary


def test_danger_now_gives_the_urgent_card_first_and_goes_on_only_if_wanted(
    responder: Responder,
) -> None:
    report = GuidedReport()
    report.start("k", responder, 0)
    report.choose("k", responder, "who", "me", 1)
    turn = report.choose("k", responder, "danger", "yes", 2)
    card = responder.urgent_card("distress")
    assert turn[0].urgent == card and card.urgent and "111" in card.parts[0]
    assert turn[0].step == "go_on"
    stopped = report.choose("k", responder, "go_on", "no", 3)
    assert stopped[-1].text == responder.ui.report.stopped
    assert not report.active("k", 4)


def test_urgent_words_typed_in_a_report_still_get_the_urgent_reply(responder: Responder) -> None:
    report = GuidedReport()
    report.start("k", responder, 0)
    turn = report.type("k", responder, "bố em đang cầm dao đòi giết em", 1)
    assert turn is not None and turn[0].urgent is not None and turn[0].urgent.urgent


def test_report_expires_after_30_idle_minutes_and_old_buttons_do_not_misfire(
    responder: Responder,
) -> None:
    report = GuidedReport()
    report.start("k", responder, 0)
    turn = report.choose("k", responder, "danger", "no", 10)  # a button of a later question
    assert turn[-1].step == "who"  # the current question again, nothing recorded
    assert report.type("k", responder, "ve chinh minh", 30 * 60 + 11) is None  # expired
    assert len(report) == 0
    report.start("abandoned", responder, 40 * 60)
    report.type("someone-else", responder, "xin chào", 80 * 60)  # any message sweeps
    assert len(report) == 0
    expired = report.choose("k", responder, "who", "me", 30 * 60 + 12)
    assert expired[-1].text == responder.ui.report.expired


def _button(sent: Sent, label: str) -> str:
    for button in sent.buttons():
        if button["text"] == label:
            return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} in {[b['text'] for b in sent.buttons()]}")


async def _next(bot: RunningBot, seen: int) -> list[Sent]:
    await bot.api.wait_sent(CHAT, seen + 1)
    await bot.api.settle(0.2)
    return bot.api.sent_to(CHAT)[seen:]


async def test_report_from_start_to_summary_on_telegram(bot: RunningBot) -> None:
    api, responder = bot.api, bot.state.responder
    texts = responder.ui.report
    api.message(CHAT, "/baotin")
    sent = await _next(bot, 0)
    assert texts.intro.split("\n")[0] in html.unescape(sent[0].text)
    who = sent[-1]
    assert html.unescape(who.text) == texts.who.ask
    api.press(who, _button(who, texts.who.options["me"].button))
    danger = (await _next(bot, 2))[-1]
    api.press(danger, _button(danger, texts.danger.options["yes"].button))
    sent = await _next(bot, 3)
    # The urgent card comes at once, exactly as the core writes it, then "go on?".
    card = [text for text, _ in tui.reply_messages(responder.ui, responder.urgent_card("distress"),
                                                   None)]
    assert [s.text for s in sent[: len(card)]] == card
    go_on = sent[-1]
    api.press(go_on, _button(go_on, texts.go_on.options["yes"].button))
    seen = len(api.sent_to(CHAT))
    harm = (await _next(bot, seen))[-1]
    api.press(harm, _button(harm, texts.harm.options["sexual_abuse"].button))
    age = (await _next(bot, seen + 1))[-1]
    api.message(CHAT, "12")  # typing works too
    province = (await _next(bot, seen + 2))[-1]
    assert len(province.buttons()) == 34 + 1  # every province, and "skip"
    api.press(province, _button(province, "Đà Nẵng"))
    commune = (await _next(bot, seen + 3))[-1]
    api.press(commune, _button(commune, texts.skip_button))
    since = (await _next(bot, seen + 4))[-1]
    api.press(since, _button(since, texts.since.options["week"].button))
    nearby = (await _next(bot, seen + 5))[-1]
    api.press(nearby, _button(nearby, texts.nearby.options["yes"].button))
    summary = (await _next(bot, seen + 6))[-1]
    shown = html.unescape(summary.text)
    assert shown.startswith("Khi gọi 111, bạn có thể nói:")
    for says in (texts.who.options["me"].says, texts.danger.options["yes"].says,
                 texts.harm.options["sexual_abuse"].says, texts.age.options["from11"].says,
                 "Thành phố Đà Nẵng", texts.since.options["week"].says,
                 texts.nearby.options["yes"].says):
        assert says in shown, says
    copies = [b["copy_text"]["text"] for b in summary.buttons() if "copy_text" in b]
    assert copies[0] == "111" and texts.who.options["me"].says in copies[1]
    assert age.text and all(len(b.get("callback_data", "").encode()) <= 64
                            for s in api.sent_to(CHAT) for b in s.buttons())
    # The report is over: the next message is answered by the normal bot.
    api.message(CHAT, "xin chào")
    after = (await _next(bot, seen + 7))[-1]
    assert texts.not_understood not in html.unescape(after.text)
    assert not bot.state.reports.active(CHAT, 0)


async def test_huy_leaves_at_any_step_and_buttons_start_it(bot: RunningBot) -> None:
    api, ui = bot.api, bot.state.responder.ui
    api.message(CHAT, "/111")
    card = (await _next(bot, 0))[-1]
    assert {ui.report.start_button, ui.counsel.start_button} <= {b["text"] for b in card.buttons()}
    api.press(card, _button(card, ui.report.start_button))
    who = (await _next(bot, 1))[-1]
    assert html.unescape(who.text) == ui.report.who.ask
    api.message(CHAT, "/huy")
    done = (await _next(bot, 3))[-1]
    assert html.unescape(done.text) == ui.report.cancelled
    assert len(bot.state.reports) == 0
    # An urgent reply carries the same two buttons.
    api.message(CHAT, "bố em đang đánh em chảy máu")
    urgent = await _next(bot, 4)
    labels = {b["text"] for s in urgent for b in s.buttons()}
    assert {ui.report.start_button, ui.counsel.start_button} <= labels
