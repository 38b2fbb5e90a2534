"""The conversation on Telegram, end to end: real Application, fake Bot API over real HTTP."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

from conftest import ADMIN_ID, ALERT_CHAT_ID, KNOWLEDGE, RunningBot
from fakebotapi import BOT_USERNAME, Sent

from bot.core.knowledge import AnswerVariants, load_knowledge
from bot.core.responder import Reply, Responder
from bot.privacy import user_key
from bot.telegram import render as tui

CHAT = 1001



def shown(responder: Responder, reply: Reply | None) -> list[str]:
    """The HTML texts a user is sent for `reply`, exactly as the bot renders them."""
    assert reply is not None
    return [text for text, _ in tui.reply_messages(responder.ui, reply, "ref")]

def _responder() -> Responder:
    return Responder(load_knowledge(KNOWLEDGE))


def _answered_question(responder: Responder, *, with_related: bool = False) -> tuple[str, str]:
    """A question the core answers confidently: (text, entry id)."""
    for entry in responder.kb.entries.values():
        if with_related and not entry.related:
            continue
        for question in entry.questions:
            reply = responder.respond(question)
            if reply.band == "answer" and not reply.urgent and reply.entry_id == entry.id:
                return question, entry.id
    raise AssertionError("no question of the knowledge base is answered confidently")


def _visible(sent: list[Sent]) -> str:
    """Everything a user can read: texts and button labels."""
    parts = []
    for message in sent:
        parts.append(message.text)
        parts.extend(b["text"] for b in message.buttons())
        parts.extend(message.keyboard_labels())
    return "\n".join(parts)


def _assert_no_internal_ids(sent: list[Sent], responder: Responder) -> None:
    visible = _visible(sent)
    for entry_id in responder.kb.entries:
        if "-" in entry_id:  # one-word ids could be ordinary words
            assert entry_id not in visible, entry_id


async def test_start_explains_the_bot_and_asks_who_is_writing(bot: RunningBot) -> None:
    api, ui = bot.api, bot.ui
    api.message(CHAT, "/start")
    sent = await api.wait_sent(CHAT, 2)
    start, question = sent[0], sent[1]
    assert "111" in start.text and "/privacy" in start.text
    assert start.parse_mode == "HTML"
    labels = start.keyboard_labels()
    assert [topic.label for topic in ui.menu_topics] == [x for x in labels if not x.startswith("/")]
    assert question.text == ui.role_question
    assert [b["text"] for b in question.buttons()] == [
        ui.role_buttons.child, ui.role_buttons.parent, ui.role_buttons.teacher
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for b in question.buttons())


async def test_role_choice_sets_the_answer_variant_and_can_be_changed(bot: RunningBot) -> None:
    api, responder = bot.api, bot.state.responder
    # An entry with different child and parent wording, reached by one of its questions with a
    # one-message answer (no urgent reply, no "check" line after it).
    for entry in responder.kb.entries.values():
        if not isinstance(entry.answer, AnswerVariants):
            continue
        if entry.answer_for("child") == entry.answer_for("parent"):
            continue
        question = next(
            (q for q in entry.questions if responder.respond(q).entry_id == entry.id
             and all(responder.respond(q, role).tier == "none" for role in ("child", "parent"))),
            None,
        )
        if question:
            break
    else:
        raise AssertionError("no entry with distinct child/parent answers")

    api.message(CHAT, "/start")
    sent = await api.wait_sent(CHAT, 2)
    child_button = sent[1].buttons()[0]
    api.press(sent[1], child_button["callback_data"])
    sent = await api.wait_sent(CHAT, 3)
    assert sent[2].text == bot.ui.role_set.child
    assert len(api.callback_answers) == 1

    api.message(CHAT, question)
    sent = await api.wait_sent(CHAT, 4)
    assert sent[3].text == shown(responder, responder.respond(question, "child"))[0]
    assert html.escape(entry.answer_for("child"), quote=False) in sent[3].text

    api.message(CHAT, "/vaitro")
    sent = await api.wait_sent(CHAT, 5)
    parent_button = sent[4].buttons()[1]
    api.press(sent[4], parent_button["callback_data"])
    await api.wait_sent(CHAT, 6)
    api.message(CHAT, question)
    sent = await api.wait_sent(CHAT, 7)
    assert sent[6].text == shown(responder, responder.respond(question, "parent"))[0]
    assert html.escape(entry.answer_for("parent"), quote=False) in sent[6].text


async def test_answer_has_related_and_feedback_buttons_and_feedback_is_stored(
    bot: RunningBot,
) -> None:
    api, ui, responder = bot.api, bot.ui, bot.state.responder
    question, entry_id = _answered_question(responder, with_related=True)
    api.message(CHAT, question)
    sent = await api.wait_sent(CHAT, 1)
    answer = sent[-1]
    labels = [b["text"] for b in answer.buttons()]
    related_titles = [responder.kb.entries[r].title for r in responder.kb.entries[entry_id].related]
    assert related_titles == labels[: len(related_titles)]
    assert labels[-2:] == [ui.feedback_helpful, ui.feedback_not_helpful]
    assert all(len(b["callback_data"].encode()) <= 64 for b in answer.buttons())
    _assert_no_internal_ids(sent, responder)

    helpful = answer.buttons()[-2]
    api.press(answer, helpful["callback_data"])
    await api.wait_for(lambda: len(api.callback_answers) == 1)
    assert api.callback_answers[0].get("text") == ui.feedback_thanks
    await bot.flush_log()
    rows = bot.db_rows()
    assert len(rows) == 1
    assert rows[0]["entry_id"] == entry_id and rows[0]["helpful"] == 1

    # Pressing a related entry answers it.
    api.press(answer, answer.buttons()[0]["callback_data"])
    sent = await api.wait_sent(CHAT, len(sent) + 1)
    related = responder.kb.entries[related_titles and responder.kb.entries[entry_id].related[0]]
    assert sent[-1].text == shown(responder, responder.answer_entry(related.id, None))[0]


async def test_did_you_mean_offers_titles_and_a_press_answers(bot: RunningBot) -> None:
    api, responder = bot.api, bot.state.responder
    candidates = []
    for entry in responder.kb.entries.values():
        words = entry.title.split()
        candidates += [" ".join(words[:2]), " ".join(words[:3]), words[0]]
        candidates += entry.keywords[:2]
    text = next(
        (c for c in candidates if responder.respond(c).band == "did-you-mean"
         and not responder.respond(c).urgent),
        None,
    )
    assert text, "no vague message found to trigger did-you-mean"
    expected = responder.respond(text)
    api.message(CHAT, text)
    sent = await api.wait_sent(CHAT, 1)
    assert sent[0].text == bot.ui.did_you_mean
    labels = [b["text"] for b in sent[0].buttons()]
    assert labels == [s.title for s in expected.suggestions]
    _assert_no_internal_ids(sent, responder)

    choice = expected.suggestions[0]
    api.press(sent[0], sent[0].buttons()[0]["callback_data"])
    sent = await api.wait_sent(CHAT, 2)
    entry = responder.kb.entries[choice.entry_id]
    assert sent[1].text == shown(responder, responder.answer_entry(entry.id, None))[0]


async def test_topic_menu_by_command_and_by_keyboard(bot: RunningBot) -> None:
    api, ui, responder = bot.api, bot.ui, bot.state.responder
    api.message(CHAT, "/chude")
    sent = await api.wait_sent(CHAT, 1)
    assert sent[0].text == ui.topics_intro
    assert [b["text"] for b in sent[0].buttons()] == [t.label for t in ui.menu_topics]
    api.press(sent[0], sent[0].buttons()[0]["callback_data"])
    sent = await api.wait_sent(CHAT, 2)
    tag = ui.menu_topics[0].tag
    assert [b["text"] for b in sent[1].buttons()] == [s.title for s in responder.topic_entries(tag)]

    # The reply keyboard sends the label as text.
    last = ui.menu_topics[-1]
    api.message(CHAT, last.label)
    sent = await api.wait_sent(CHAT, 3)
    assert [b["text"] for b in sent[2].buttons()] == [
        s.title for s in responder.topic_entries(last.tag)
    ]
    _assert_no_internal_ids(sent, responder)


async def test_hotline_help_and_privacy_commands(bot: RunningBot) -> None:
    api, ui, responder = bot.api, bot.ui, bot.state.responder
    for command in ("/111", "/sos"):
        api.message(CHAT, command)
    sent = await api.wait_sent(CHAT, 2)
    card = responder.hotline_card().replace("&", "&amp;")
    assert sent[0].text == card and sent[1].text == card
    assert "111" in card
    api.message(CHAT, "/help")
    api.message(CHAT, "/privacy")
    sent = await api.wait_sent(CHAT, 4)
    assert sent[2].text == ui.help.strip().replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;"
    )
    days = bot.settings.privacy.retention_days
    assert sent[3].text == html.escape(ui.privacy_for(days).strip(), quote=False)
    assert f"{days} ngày" in sent[3].text


async def test_quick_exit_deletes_messages_and_stored_rows(bot: RunningBot) -> None:
    api, responder = bot.api, bot.state.responder
    other = 2002
    question, _ = _answered_question(responder)
    api.message(CHAT, "/start")
    await api.wait_sent(CHAT, 2)
    api.press(api.sent_to(CHAT)[1], api.sent_to(CHAT)[1].buttons()[0]["callback_data"])
    await api.wait_sent(CHAT, 3)
    api.message(CHAT, question)
    api.message(other, question)
    await api.wait_sent(CHAT, 4)
    await api.wait_sent(other, 1)
    await bot.flush_log()
    secret = bot.settings.hash_secret.get_secret_value().encode()
    assert len(bot.db_rows("user_key = ?", (user_key(secret, CHAT),))) == 1

    before = list(api.sent_to(CHAT))
    xoa = api.message(CHAT, "/xoa")
    sent = await api.wait_sent(CHAT, len(before) + 1)
    confirmation = sent[-1]
    assert confirmation.text == bot.ui.xoa_done
    assert confirmation.reply_markup == {"remove_keyboard": True}
    deleted = {mid for chat, mid in api.deleted if chat == CHAT}
    user_ids = {u["message"]["message_id"] for u in api.updates
                if "message" in u and u["message"]["chat"]["id"] == CHAT}
    assert xoa["message"]["message_id"] in deleted
    assert {m.message_id for m in before} <= deleted  # every bot message
    assert user_ids <= deleted  # every user message, the /xoa itself included
    assert not any(chat == other for chat, _ in api.deleted)
    assert bot.db_rows("user_key = ?", (user_key(secret, CHAT),)) == []
    assert len(bot.db_rows("user_key = ?", (user_key(secret, other),))) == 1

    # The chosen role is forgotten too: the next answer is the default wording.
    assert CHAT not in bot.app.user_data or bot.app.user_data[CHAT].audience is None


async def test_non_text_messages_get_a_polite_reply_with_the_hotline(bot: RunningBot) -> None:
    api, ui = bot.api, bot.ui
    for inject in (api.sticker, api.photo, api.voice, api.document):
        inject(CHAT)
    sent = await api.wait_sent(CHAT, 4)
    expected = "\n".join(line for line in ui.non_text.strip().split("\n"))
    assert [s.text for s in sent] == [expected] * 4
    assert "111" in expected


async def test_edited_message_is_answered_like_a_new_one(bot: RunningBot) -> None:
    api, responder = bot.api, bot.state.responder
    question, entry_id = _answered_question(responder)
    original = api.message(CHAT, "xyz")
    await api.wait_sent(CHAT, 1)
    api.edit(original, question)
    sent = await api.wait_sent(CHAT, 2)
    assert sent[1].text == shown(responder, responder.answer_entry(entry_id, None))[0]


async def test_in_groups_only_commands_and_mentions_are_answered(bot: RunningBot) -> None:
    api, responder = bot.api, bot.state.responder
    group = -500
    question, entry_id = _answered_question(responder)
    api.message(group, question, user_id=11, chat_type="group")
    api.message(group, f"/111@{BOT_USERNAME}", user_id=11, chat_type="group")
    api.message(group, "/111@some_other_bot", user_id=11, chat_type="group")
    api.message(group, f"@{BOT_USERNAME} {question}", user_id=12, chat_type="group")
    api.sticker(group, user_id=11, chat_type="group")
    sent = await api.wait_sent(group, 2)
    await api.settle()
    sent = api.sent_to(group)
    assert len(sent) == 2, [s.text[:50] for s in sent]
    assert "111" in sent[0].text
    assert sent[1].text == shown(responder, responder.answer_entry(entry_id, None))[0]
    assert sent[0].keyboard_labels() == []  # no reply keyboard pushed on a group


def _urgent_text(responder: Responder) -> str:
    for text in (
        "cứu em với, bố đang đánh em chảy máu",
        "chú hàng xóm sờ vào vùng kín của em",
        "em muốn chết",
        "có người đang đánh em",
    ):
        if responder.respond(text).urgent:
            return text
    for category in responder.kb.danger.categories:  # type: ignore[attr-defined]
        for phrase in getattr(category, "phrases", []):
            if responder.respond(phrase).urgent:
                return phrase
    raise AssertionError("no urgent message found")


async def test_urgent_message_goes_first_alone_and_alerts_staff(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = await start_bot(alerts={"chat_id": ALERT_CHAT_ID})
    api, responder = bot.api, bot.state.responder
    text = _urgent_text(responder)
    expected = responder.respond(text)
    api.message(CHAT, f"{text}. Em tên là Nguyễn Thị Lan, số của em là 0912 345 678")
    sent = await api.wait_sent(CHAT, len(expected.parts))
    assert sent[0].text == shown(responder, expected)[0]
    assert sent[0].buttons() == []
    alerts = await api.wait_sent(ALERT_CHAT_ID, 1)
    alert = alerts[0].text
    # Staff read the marker and the kind of harm in words (danger.yaml's name), never the id.
    assert expected.category is not None
    name = responder.kb.danger.categories[expected.category].name
    assert alert.startswith(f"<b>{html.escape(bot.ui.urgent_marker)}</b>: {html.escape(name)}\n")
    assert expected.category not in alert
    for identity in ("0912", "Lan", str(CHAT), "lan_hs"):
        assert identity not in alert
    await bot.flush_log()
    (row,) = bot.db_rows()
    assert row["urgent"] == 1 and row["ref"] in alert


async def test_burst_of_urgent_messages_is_not_held_back_by_the_staff_chat_limit(start_bot) -> None:  # type: ignore[no-untyped-def]
    # The staff chat is a group (about 20 messages a minute). Alerts must neither delay the
    # children's urgent replies nor stall other chats, and none may be lost.
    bot: RunningBot = await start_bot(
        alerts={"chat_id": ALERT_CHAT_ID}, telegram={"concurrency": 4}
    )
    api, responder = bot.api, bot.state.responder
    text = _urgent_text(responder)
    parts = len(responder.respond(text).parts)
    chats = [CHAT + i for i in range(30)]
    for chat in chats:
        api.message(chat, text)
    question, _ = _answered_question(responder)
    api.message(CHAT + 100, question)
    await api.wait_for(
        lambda: all(len(api.sent_to(chat)) >= parts for chat in chats)
        and api.sent_to(CHAT + 100), timeout=10,
    )
    alerts = await api.wait_sent(ALERT_CHAT_ID, 1)
    await bot.flush_log()
    refs = [row["ref"] for row in bot.db_rows("urgent = 1")]
    assert len(refs) == len(chats)
    await api.wait_for(
        lambda: all(any(ref in a.text for a in api.sent_to(ALERT_CHAT_ID)) for ref in refs),
        timeout=10,
    )
    alerts = api.sent_to(ALERT_CHAT_ID)
    assert len(alerts) < len(chats)  # joined while the group limit holds them back
    assert all(len(a.text) <= 4096 for a in alerts)


async def test_reload_swaps_knowledge_and_keeps_old_one_on_error(start_bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy)
    bot: RunningBot = await start_bot(knowledge={"path": str(copy)})
    api, ui = bot.api, bot.ui
    question, entry_id = _answered_question(bot.state.responder)

    api.message(CHAT, "/reload")
    sent = await api.wait_sent(CHAT, 1)
    assert sent[0].text == ui.not_admin

    old = bot.state.responder
    api.message(ADMIN_ID, "/reload")
    sent = await api.wait_sent(ADMIN_ID, 1)
    kb = old.kb
    assert sent[0].text == ui.reload_ok.format(entries=len(kb.entries), questions=kb.question_count)
    assert bot.state.responder is not old

    # Break an entries file: the reload fails, names the problem, and the bot keeps answering.
    entries_file = sorted((copy / "entries").glob("*.yaml"))[0]
    entries_file.write_text(
        entries_file.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8"
    )
    current = bot.state.responder
    api.message(ADMIN_ID, "/reload")
    sent = await api.wait_sent(ADMIN_ID, 2)
    assert sent[1].text.startswith(html.escape(ui.reload_failed, quote=False))
    assert entries_file.name in sent[1].text
    assert bot.state.responder is current
    api.message(CHAT, question)
    sent = await api.wait_sent(CHAT, 2)
    assert sent[1].text == shown(current, current.answer_entry(entry_id, None))[0]


async def test_stats_gives_the_days_figures_to_admins_only(bot: RunningBot) -> None:
    api, responder = bot.api, bot.state.responder
    question, _ = _answered_question(responder)
    api.message(CHAT, question)
    api.message(CHAT + 1, "blablabla qwerty")
    await api.wait_sent(CHAT, 1)
    await api.wait_sent(CHAT + 1, 1)
    await bot.flush_log()
    api.message(CHAT, "/stats")
    sent = await api.wait_sent(CHAT, 2)
    assert sent[1].text == bot.ui.not_admin
    api.message(ADMIN_ID, "/stats")
    (stats,) = await api.wait_sent(ADMIN_ID, 1)
    figures = await bot.state.log.day_stats()
    assert figures["messages"] == 2
    assert str(figures["messages"]) in stats.text and "?" not in stats.text



DOUBTFUL = ["dạo này e hay bị chú hàng xóm nhìn chằm chằm, e thấy sợ sợ",
            "bạn e mấy hôm nay ko đi học, hỏi thì bạn ấy bảo ở nhà bị nhốt",
            "e ko muốn về nhà chút nào"]


async def test_check_reply_is_one_message_and_its_button_brings_the_urgent_card_and_one_alert(
    start_bot,  # type: ignore[no-untyped-def]
) -> None:
    bot: RunningBot = await start_bot(alerts={"chat_id": ALERT_CHAT_ID})
    api, responder, ui = bot.api, bot.state.responder, bot.ui
    text = next((t for t in DOUBTFUL if responder.respond(t).check), None)
    assert text is not None, "none of the doubtful messages gets the check line"
    expected = responder.respond(text)
    api.message(CHAT, text)
    (answer,) = await api.wait_sent(CHAT, 1)
    await api.settle()
    assert len(api.sent_to(CHAT)) == 1  # the answer and the 111 line come as one message
    assert answer.text.endswith(html.escape(ui.check_line, quote=False))
    assert api.sent_to(ALERT_CHAT_ID) == []  # doubt alone alerts nobody
    button = answer.buttons()[0]
    assert button["text"] == ui.check_button_child
    assert expected.check_button is not None

    api.press(answer, button["callback_data"])
    sent = await api.wait_sent(CHAT, 2)
    card = responder.urgent_card(expected.check_button.category)
    assert sent[1].text == shown(responder, card)[0]
    assert "111" in sent[1].text and sent[1].buttons() == []
    alerts = await api.wait_sent(ALERT_CHAT_ID, 1)
    assert html.escape(ui.check_button_child, quote=False) in alerts[0].text

    api.press(answer, button["callback_data"])  # pressed again: the card again, no new alert
    await api.wait_sent(CHAT, 2 + len(card.parts))
    await api.settle()
    assert len(api.sent_to(ALERT_CHAT_ID)) == 1


async def test_a_privacy_word_staff_add_is_redacted_from_the_log_after_reload(
    start_bot, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy)
    bot: RunningBot = await start_bot(knowledge={"path": str(copy)})
    api = bot.api
    text = "nhà em ở gần tháp nước hòa bình"
    replies = len(shown(bot.state.responder, bot.state.responder.respond(text)))
    api.message(CHAT, text)
    await api.wait_sent(CHAT, replies)
    await bot.flush_log()
    (row,) = bot.db_rows()
    assert "hòa bình" in row["message"]  # not a place the lists know yet

    lists = copy / "privacy.yaml"
    lists.write_text(lists.read_text(encoding="utf-8").replace(
        "landmark_words: [\n", "landmark_words: [\n  tháp nước,\n", 1), encoding="utf-8")
    api.message(ADMIN_ID, "/reload")
    await api.wait_sent(ADMIN_ID, 1)
    replies += len(shown(bot.state.responder, bot.state.responder.respond(text)))
    api.message(CHAT, text)
    await api.wait_sent(CHAT, replies)
    await bot.flush_log()
    first, second = bot.db_rows()
    assert "hòa bình" in first["message"] and "hòa bình" not in second["message"]
