"""Every entry is one tap away: it carries a tag that is on the /chude menu (issue 17)."""

from pathlib import Path

from bot.core.knowledge import load_knowledge

ROOT = Path(__file__).resolve().parents[1]


def test_every_entry_is_reachable_from_the_topic_menu() -> None:
    kb = load_knowledge(ROOT / "knowledge")
    menu = {topic.tag for topic in kb.ui.menu_topics}
    off_menu = [entry.id for entry in kb.entries.values() if not set(entry.tags) & menu]
    assert not off_menu, f"entries on no menu topic: {off_menu}"
