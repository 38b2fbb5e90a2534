"""The coverage table (topic x audience) that shows staff where the knowledge base is thin."""

from __future__ import annotations

from bot.core.knowledge import AUDIENCES, KnowledgeBase

# Topic tags in the order staff read them, with their Vietnamese names.
TOPICS: dict[str, str] = {
    "duong-day-nong": "Số điện thoại, cách báo tin",
    "xam-hai-la-gi": "Xâm hại là gì, dấu hiệu",
    "ky-nang": "Kỹ năng tự bảo vệ",
    "an-toan-mang": "An toàn trên mạng",
    "khi-tre-ke": "Khi trẻ kể bị xâm hại",
    "phap-ly": "Pháp lý, quyền trẻ em",
    "y-te": "Khám, giám định",
    "giao-vien": "Giáo viên, nhà trường",
    "ke-hoach": "Các kế hoạch, văn bản",
}
AUDIENCE_NAMES = {"child": "trẻ em", "parent": "phụ huynh", "teacher": "giáo viên"}
BEGIN = "<!-- coverage:begin -->"
END = "<!-- coverage:end -->"


def coverage_cells(kb: KnowledgeBase) -> dict[tuple[str, str], list[str]]:
    """Entry ids by (topic tag, audience); an entry counts for every audience it lists."""
    cells: dict[tuple[str, str], list[str]] = {
        (tag, audience): [] for tag in TOPICS for audience in AUDIENCES
    }
    for entry in kb.entries.values():
        for tag in entry.tags:
            for audience in entry.audience:
                cells.setdefault((tag, audience), []).append(entry.id)
    return cells


def coverage_table(kb: KnowledgeBase) -> str:
    """A Markdown table of entries per topic and audience, between markers for README.md."""
    cells = coverage_cells(kb)
    header = "| chủ đề (tag) | " + " | ".join(AUDIENCE_NAMES[a] for a in AUDIENCES) + " |"
    rows = [BEGIN, header, "|---" * (len(AUDIENCES) + 1) + "|"]
    for tag, name in TOPICS.items():
        row = [f"{name} (`{tag}`)"]
        for audience in AUDIENCES:
            ids = cells[(tag, audience)]
            row.append(", ".join(f"`{i}`" for i in ids) if ids else "**(trống)**")
        rows.append("| " + " | ".join(row) + " |")
    rows.append(END)
    return "\n".join(rows)
