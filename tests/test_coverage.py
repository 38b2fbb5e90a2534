"""The coverage table staff read in knowledge/README.md is current and has no empty cell."""

from pathlib import Path

from bot.core.knowledge import AUDIENCES, load_knowledge
from bot.coverage import BEGIN, END, coverage_cells, coverage_table

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def test_readme_table_matches_the_knowledge_base():
    kb = load_knowledge(KNOWLEDGE)
    readme = (KNOWLEDGE / "README.md").read_text(encoding="utf-8")
    shown = readme[readme.index(BEGIN) : readme.index(END) + len(END)]
    assert shown == coverage_table(kb), (
        "run `.venv/bin/python -m bot kb coverage` and paste it in knowledge/README.md "
        "(step 3 of its 'Sau mỗi lần sửa')"
    )


def test_every_topic_has_entries_for_every_audience():
    cells = coverage_cells(load_knowledge(KNOWLEDGE))
    empty = [cell for cell, ids in cells.items() if not ids]
    assert empty == []
    assert {audience for _, audience in cells} == set(AUDIENCES)


def test_kb_check_warns_when_the_table_is_stale(tmp_path):
    """A staff member adds an entry and forgets step 3: `kb check` says so before the test
    suite does."""
    import shutil

    from bot.coverage import stale_table_warning

    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy)
    kb = load_knowledge(copy)
    assert stale_table_warning(copy / "README.md", kb) is None
    readme = copy / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("`tong-dai-111`, ", "", 1),
                      encoding="utf-8")
    warning = stale_table_warning(readme, kb)
    assert warning is not None and "kb coverage" in warning
    assert warning.startswith(f"{readme}:")
