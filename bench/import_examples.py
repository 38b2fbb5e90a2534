"""Turn an author's question set into a knowledge/examples/ file the matcher learns from.

Run: `.venv/bin/python bench/import_examples.py AUTHOR.yaml knowledge/examples/NAME.yaml
[--author "who, when"] [--relabel OLD_TEXT_PREFIX=ENTRY_ID ...]`.

The author's file is a list of `{text, expect: <entry id or none>, style, who}` (expect may be a
list of acceptable ids: the first is kept). Every `expect` is checked against the entries: an
unknown id is printed and the item dropped unless `--relabel` fixes it. The output groups the
messages by entry id (staff add a line under the entry they mean) and lists out-of-scope ones.
Measure a set with bench/quality.py --set BEFORE importing it (the guide's rule).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.knowledge import load_knowledge  # noqa: E402

NONE = "none"


@dataclass(frozen=True)
class Item:
    text: str
    expect: str  # an entry id or "none"


def read_items(path: Path) -> list[Item]:
    """Items of an author's list file, or of a knowledge/examples/ mapping file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        items = [Item(str(t), str(i)) for i, ts in (data.get("questions") or {}).items()
                 for t in ts]
        return items + [Item(str(t), NONE) for t in data.get("out_of_scope") or []]
    out = []
    for raw in data or []:
        expect = raw.get("expect")
        first = expect[0] if isinstance(expect, list) and expect else expect
        out.append(Item(str(raw["text"]).strip(), str(first).strip() if first else NONE))
    return out


def checked(items: list[Item], known: set[str], relabel: dict[str, str]) -> list[Item]:
    """Apply `relabel` (text prefix -> id), drop items whose id is still unknown (printed)."""
    out, dropped, fixed = [], 0, 0
    for item in items:
        for prefix, new in relabel.items():
            if item.text.startswith(prefix):
                item, fixed = Item(item.text, new), fixed + 1
        if item.expect != NONE and item.expect not in known:
            print(f"  unknown id {item.expect!r}, dropped: {item.text!r}")
            dropped += 1
            continue
        out.append(item)
    print(f"{len(items)} items: {fixed} relabelled, {dropped} dropped, {len(out)} kept")
    return out


def dump(items: list[Item], author: str) -> str:
    """The examples file, grouped by entry id in first-seen order (plain YAML staff can read)."""
    by_id: dict[str, list[str]] = {}
    for item in items:
        if item.expect != NONE:
            by_id.setdefault(item.expect, []).append(item.text)
    lines = [
        "# Câu hỏi mẫu thêm cho bot học (không phải câu hỏi của mục; `kb test` không chạy chúng).",
        "# questions: mã mục -> những cách người dùng hỏi; out_of_scope: tin nhắn không thuộc",
        "# phạm vi bảo vệ trẻ em (bot phải trả lời là không biết). Xem knowledge/README.md.",
        f"author: {_scalar(author)}",
        "questions:",
    ]
    for entry_id, texts in by_id.items():
        lines.append(f"  {entry_id}:")
        lines += [f"    - {_scalar(t)}" for t in texts]
    outside = [f"  - {_scalar(i.text)}" for i in items if i.expect == NONE]
    if outside:  # an empty `out_of_scope:` is not a list: `kb check` would refuse the file
        lines += ["out_of_scope:", *outside]
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> str:
    return yaml.safe_dump(text, allow_unicode=True, width=10_000, default_style='"').strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--author", default="")
    parser.add_argument("--relabel", action="append", default=[], help="TEXT_PREFIX=ENTRY_ID")
    args = parser.parse_args()
    kb = load_knowledge(ROOT / "knowledge")
    relabel = dict(pair.rsplit("=", 1) for pair in args.relabel)
    items = checked(read_items(args.source), set(kb.entries), relabel)
    args.target.parent.mkdir(parents=True, exist_ok=True)
    args.target.write_text(dump(items, args.author or str(args.source.name)), encoding="utf-8")
    print(f"written {args.target}")


if __name__ == "__main__":
    main()
