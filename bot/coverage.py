"""The coverage table (topic x audience) that shows staff where the knowledge base is thin."""

from __future__ import annotations

from pathlib import Path

from bot.core.knowledge import AUDIENCES, KnowledgeBase

BEGIN = "<!-- coverage:begin -->"
END = "<!-- coverage:end -->"


def coverage_cells(kb: KnowledgeBase) -> dict[tuple[str, str], list[str]]:
    """Entry ids by (topic tag, audience); an entry counts for every audience it lists.
    The topics are knowledge/ui.yaml's `topics` (menu and staff-only alike)."""
    cells: dict[tuple[str, str], list[str]] = {
        (topic.tag, audience): [] for topic in kb.ui.topics for audience in AUDIENCES
    }
    for entry in kb.entries.values():
        for tag in entry.tags:
            for audience in entry.audience:
                cells.setdefault((tag, audience), []).append(entry.id)
    return cells


def coverage_table(kb: KnowledgeBase) -> str:
    """A Markdown table of entries per topic and audience, between markers for README.md."""
    cells = coverage_cells(kb)
    names = kb.ui.audience_names
    header = "| chủ đề (tag) | " + " | ".join(getattr(names, a) for a in AUDIENCES) + " |"
    rows = [BEGIN, header, "|---" * (len(AUDIENCES) + 1) + "|"]
    for topic in kb.ui.topics:
        tag = topic.tag
        row = [f"{topic.label} (`{tag}`)"]
        for audience in AUDIENCES:
            ids = cells[(tag, audience)]
            row.append(", ".join(f"`{i}`" for i in ids) if ids else "**(trống)**")
        rows.append("| " + " | ".join(row) + " |")
    rows.append(END)
    return "\n".join(rows)


def stale_table_warning(readme: Path, kb: KnowledgeBase) -> str | None:
    """A warning when the table between the markers of `readme` is not the current one."""
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return None
    if BEGIN not in text or END not in text:
        return None
    shown = text[text.index(BEGIN) : text.index(END) + len(END)]
    if shown == coverage_table(kb):
        return None
    line = text[: text.index(BEGIN)].count("\n") + 1
    return (f"{readme}:{line}: bảng Độ phủ chưa khớp với các mục hiện có: chạy "
            f".venv/bin/python -m bot kb coverage và dán bảng nó in ra vào đây")
