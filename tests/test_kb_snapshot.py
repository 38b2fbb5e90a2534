"""A broken knowledge file at start: the bot starts from the last good snapshot, says so in the
log and to admins, and answers users."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ADMIN_ID, KNOWLEDGE, write_config
from fakebotapi import FakeBotAPI
from test_telegram_run import _env, _spawn, _stop

from bot.core.knowledge import KnowledgeError
from bot.kb_snapshot import load_or_snapshot


def test_broken_files_fall_back_to_the_snapshot_and_report_file_and_line(tmp_path: Path) -> None:
    kb_dir, snap = tmp_path / "knowledge", tmp_path / "data" / "knowledge.last-good"
    shutil.copytree(KNOWLEDGE, kb_dir)
    _, problems = load_or_snapshot(kb_dir, snap)
    assert problems == [] and (snap / "ui.yaml").exists()
    (kb_dir / "hotlines.yaml").write_text("a: &x [*x]\n", encoding="utf-8")
    kb, problems = load_or_snapshot(kb_dir, snap)
    assert kb.entries
    assert any("hotlines.yaml:1" in p and "recursive alias" in p for p in problems)
    shutil.rmtree(snap)
    try:
        load_or_snapshot(kb_dir, snap)
    except KnowledgeError as exc:
        assert "hotlines.yaml" in exc.issues[0]
    else:
        raise AssertionError("no snapshot and broken files must be an error")


async def test_bot_starts_from_the_snapshot_and_tells_admins(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    kb_dir = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, kb_dir)
    load_or_snapshot(kb_dir, tmp_path / "knowledge.last-good")  # the database sits in tmp_path
    (kb_dir / "ui.yaml").write_text("reload_failed: [unclosed\n", encoding="utf-8")
    config = write_config(tmp_path, fake_api, knowledge={"path": str(kb_dir)})
    proc = await _spawn(config, _env(fake_api))
    try:
        (notice,) = await fake_api.wait_sent(ADMIN_ID, 1, timeout=60)
        assert "ui.yaml" in notice.text
        fake_api.message(31337, "/111")
        (reply,) = await fake_api.wait_sent(31337, 1, timeout=10)
        assert "111" in reply.text
    except BaseException:
        proc.kill()
        raise
    _, output = await _stop(proc, timeout=15)
    assert "KNOWLEDGE FILES ARE BROKEN" in output
    assert "Traceback" not in output
