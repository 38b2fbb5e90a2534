"""The handled-update store survives a restart and forgets ids Telegram can no longer re-send."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.telegram import handled as handled_module
from bot.telegram.handled import HandledUpdates, delivery_database


def test_handled_ids_survive_a_restart_and_expire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = delivery_database(tmp_path / "log.sqlite3")
    assert path.name == "log.delivery.sqlite3"
    store = HandledUpdates(path)
    store.open()
    store.record(7)
    store.close()  # like a kill -9: nothing but the database carries over
    store = HandledUpdates(path)
    store.open()
    assert store.seen(7) and not store.seen(8)
    # Three days later, running: the old id is dropped from memory and the file.
    later = handled_module.time.time() + 3 * 86400
    monkeypatch.setattr(handled_module.time, "time", lambda: later)
    monkeypatch.setattr(handled_module, "PRUNE_EVERY", 1)
    store.record(9)
    assert not store.seen(7) and store.seen(9)
    store.close()
    store = HandledUpdates(path)
    store.open()
    assert not store.seen(7) and store.seen(9)
    store.close()


def test_an_unusable_database_never_stops_the_bot(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    store = HandledUpdates(blocker / "log.delivery.sqlite3")
    store.open()  # logged, not raised
    store.record(1)
    assert store.seen(1)
