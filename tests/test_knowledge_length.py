"""Every answer a user reads fits a phone screen: at most 900 characters per variant (issue 17).

Telegram allows 4096, but an answer longer than about one screen is not read to the end; detail
belongs in a related entry ("Xem thêm"). The failure names each entry id and variant, so staff
know which text to shorten.
"""

import shutil
from pathlib import Path

from bot.core.knowledge import AUDIENCES, Entry, load_knowledge

ROOT = Path(__file__).resolve().parents[1]
MAX_ANSWER_CHARS = 900


def variants(entry: Entry) -> list[tuple[str, str]]:
    """(variant name, text) for every answer text of an entry."""
    if isinstance(entry.answer, str):
        return [("answer", entry.answer)]
    named = [("default", entry.answer.default)]
    named += [(name, text) for name in AUDIENCES if (text := getattr(entry.answer, name))]
    return named


def over_limit(kb_root: Path) -> list[str]:
    kb = load_knowledge(kb_root)
    return [
        f"{entry.id}: {name}: {len(text)} characters"
        for entry in kb.entries.values()
        for name, text in variants(entry)
        if len(text) > MAX_ANSWER_CHARS
    ]


def test_every_answer_variant_fits_on_a_phone() -> None:
    too_long = over_limit(ROOT / "knowledge")
    assert not too_long, f"answers over {MAX_ANSWER_CHARS} characters:\n" + "\n".join(too_long)


def test_the_check_names_the_entry_and_the_variant(tmp_path: Path) -> None:
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    (target / "entries" / "zz-dai.yaml").write_text(
        "- id: muc-qua-dai\n"
        "  title: Mục quá dài\n"
        "  questions: [một câu hỏi thử rất riêng]\n"
        "  answer:\n"
        "    default: Ngắn.\n"
        f"    parent: {'a' * (MAX_ANSWER_CHARS + 1)}\n"
        "  sources: [Luật Trẻ em 2016, Điều 1]\n"
        "  reviewed: 2026-12-03\n",
        encoding="utf-8",
    )
    assert f"muc-qua-dai: parent: {MAX_ANSWER_CHARS + 1} characters" in over_limit(target)
