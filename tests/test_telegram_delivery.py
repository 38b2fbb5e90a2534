"""Nothing lost when the bot is killed or stopped: real processes against the fake server."""

from __future__ import annotations

from pathlib import Path

from fakebotapi import FakeBotAPI
from faultdrill import kill9_drill, sigterm_drill


async def test_kill_9_in_the_middle_of_a_burst_then_restart_answers_every_message(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    # The scenario: 500 chats queued, killed after 150 replies, at Telegram's 30/s.
    outcome = await kill9_drill(fake_api, tmp_path, chats=500, kill_after=150)
    assert outcome.answered_before < outcome.queued  # the kill really came mid-burst
    assert outcome.lost == 0
    assert outcome.duplicated <= outcome.queued // 100


async def test_sigterm_with_a_backlog_exits_quickly_and_the_rest_come_back(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    outcome = await sigterm_drill(fake_api, tmp_path, chats=300)
    assert outcome.stop_seconds < 10
    assert outcome.answered_before < outcome.queued  # some were left for after the restart
    assert outcome.lost == 0
    assert outcome.duplicated <= outcome.queued // 100
