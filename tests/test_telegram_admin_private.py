"""Staff commands are answered only in private chats: a group never sees figures or errors."""

from __future__ import annotations

from conftest import ADMIN_ID, RunningBot


async def test_stats_from_an_admin_in_a_group_is_not_shown_to_the_group(
    bot: RunningBot,
) -> None:
    api = bot.api
    group = -100777
    api.message(group, "/stats", user_id=ADMIN_ID, chat_type="supergroup")
    api.message(group, "/reload", user_id=ADMIN_ID, chat_type="supergroup")
    await api.settle(0.5)
    assert api.sent_to(group) == []
    api.message(ADMIN_ID, "/stats")  # the same admin in private gets the figures
    (stats,) = await api.wait_sent(ADMIN_ID, 1)
    assert stats.text
