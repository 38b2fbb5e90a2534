"""The coverage table (topic x audience) that shows staff where the knowledge base is thin."""

from __future__ import annotations

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
