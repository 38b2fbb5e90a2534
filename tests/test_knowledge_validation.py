"""The validator: every kind of mistake a staff member can make is named by file, line and field."""

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeError, load_knowledge

BUNDLED = Path(__file__).resolve().parent.parent / "knowledge"

GOOD_ENTRY = """\
- id: muc-thu
  title: Mục thử
  questions:
    - câu hỏi thử một
    - cau hoi thu hai
  answer: Câu trả lời thử.
  sources: [Luật Trẻ em 2016, Điều 1]
  reviewed: 2026-11-28
"""


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A copy of the bundled knowledge base that a test may break."""
    target = tmp_path / "knowledge"
    shutil.copytree(BUNDLED, target)
    return target


def issues_after_adding(kb_dir: Path, text: str, name: str = "zz-thu.yaml") -> list[str]:
    path = kb_dir / "entries" / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    return info.value.issues


def test_bundled_knowledge_base_loads():
    kb = load_knowledge(BUNDLED)
    assert len(kb.entries) >= 80
    assert all(entry.sources for entry in kb.entries.values())


def test_a_good_new_entry_loads(kb_dir):
    (kb_dir / "entries" / "zz-thu.yaml").write_text(GOOD_ENTRY, encoding="utf-8")
    kb = load_knowledge(kb_dir)
    assert kb.entries["muc-thu"].answer_for("child") == "Câu trả lời thử."


def test_duplicate_id_across_files(kb_dir):
    existing = next(iter(load_knowledge(kb_dir).entries))
    text = GOOD_ENTRY.replace("id: muc-thu", f"id: {existing}")
    issues = issues_after_adding(kb_dir, text)
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert len(issues) == 1
    assert issues[0].startswith(f"{path}:1: {existing}: id: id này đã có ở ")


def test_dangling_related(kb_dir):
    text = GOOD_ENTRY + "  related: [khong-co-muc-nay]\n"
    issues = issues_after_adding(kb_dir, text)
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert len(issues) == 1
    assert issues[0].startswith(
        f"{path}:9: muc-thu: related: không có mục nào mang id 'khong-co-muc-nay'"
    )


def test_missing_sources(kb_dir):
    text = GOOD_ENTRY.replace("  sources: [Luật Trẻ em 2016, Điều 1]\n", "")
    issues = issues_after_adding(kb_dir, text)
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert len(issues) == 1
    assert issues[0].startswith(f"{path}:1: muc-thu: sources: thiếu trường bắt buộc")


def test_empty_sources(kb_dir):
    text = GOOD_ENTRY.replace("[Luật Trẻ em 2016, Điều 1]", "[]")
    issues = issues_after_adding(kb_dir, text)
    assert len(issues) == 1 and ":7: muc-thu: sources: " in issues[0]


def test_empty_questions(kb_dir):
    text = GOOD_ENTRY.replace(
        "  questions:\n    - câu hỏi thử một\n    - cau hoi thu hai\n", "  questions: []\n"
    )
    issues = issues_after_adding(kb_dir, text)
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert len(issues) == 1 and issues[0].startswith(f"{path}:3: muc-thu: questions: ")


def test_blank_question(kb_dir):
    text = GOOD_ENTRY.replace("    - cau hoi thu hai\n", "    - '  '\n")
    issues = issues_after_adding(kb_dir, text)
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert len(issues) == 1 and issues[0].startswith(f"{path}:5: muc-thu: questions.1: ")


def test_answer_over_telegram_limit(kb_dir):
    text = GOOD_ENTRY.replace("Câu trả lời thử.", "a" * 4097)
    issues = issues_after_adding(kb_dir, text)
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert len(issues) == 1
    assert issues[0].startswith(f"{path}:6: muc-thu: answer: ")
    assert "4097" in issues[0] and "4096" in issues[0]


def test_answer_variant_needs_default(kb_dir):
    only_child = "  answer:\n    child: Chỉ cho trẻ.\n"
    text = GOOD_ENTRY.replace("  answer: Câu trả lời thử.\n", only_child)
    issues = issues_after_adding(kb_dir, text)
    assert any(":6: muc-thu: answer" in issue for issue in issues)


def test_yaml_syntax_error_with_line(kb_dir):
    text = GOOD_ENTRY + "  tags: [a, b\n- id: khac\n"
    issues = issues_after_adding(kb_dir, text)
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert len(issues) == 1
    assert issues[0].startswith(f"{path}:10: (tệp): lỗi cú pháp YAML")


def test_unknown_field_and_wrong_type(kb_dir):
    text = GOOD_ENTRY.replace("  reviewed: 2026-11-28\n", "  reviewed: hôm qua\n  tieu_de: x\n")
    issues = issues_after_adding(kb_dir, text)
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert any(i.startswith(f"{path}:9: muc-thu: tieu_de: tên khoá lạ") for i in issues)
    assert any(issue.startswith(f"{path}:8: muc-thu: reviewed: ") for issue in issues)


def test_every_problem_is_collected_in_one_pass(kb_dir):
    broken = GOOD_ENTRY.replace("  sources: [Luật Trẻ em 2016, Điều 1]\n", "")
    second = GOOD_ENTRY.replace("muc-thu", "muc-hai") + "  related: [khong-co]\n"
    issues = issues_after_adding(kb_dir, broken + second)
    assert any("muc-thu: sources" in issue for issue in issues)
    assert any("muc-hai: related" in issue for issue in issues)


def test_broken_side_file_is_named(kb_dir):
    (kb_dir / "hotlines.yaml").write_text("hotlines:\n  - number: 1-1-1\n    name: x\n")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    issues = info.value.issues
    assert any(i.startswith(f"{kb_dir / 'hotlines.yaml'}:2: hotlines.0.number:") for i in issues)


def test_kb_check_warns_of_a_net_word_that_typed_without_diacritics_is_another_word() -> None:
    """"cứa" (cut) in the safety net fired the suicide-crisis reply on "sim cua tui" (của):
    staff are told which word, what it usually is, and what to write instead."""
    from bot.__main__ import knowledge_warnings
    from bot.core.responder import Responder
    from bot.core.triage.net_lint import ambiguous_harm_words

    kb = load_knowledge(BUNDLED)
    assert not [w for w in knowledge_warnings(Responder(kb)) if "safety_net" in w]
    net = kb.danger.safety_net
    assert net is not None
    words = {**net.words, "self_harm": [*net.words["self_harm"], "cứa"],
             "physical_violence": [*net.words["physical_violence"], "trói"]}
    danger = kb.danger.model_copy(update={"safety_net": net.model_copy(update={"words": words})})
    found = {(f.category, f.word, f.usual) for f in ambiguous_harm_words(danger, kb.vocabulary())}
    assert ("self_harm", "cứa", "của") in found
    warnings = [w for w in knowledge_warnings(Responder(replace(kb, danger=danger)))
                if "safety_net" in w]
    assert len(warnings) == 2, warnings
    assert "danger.yaml: safety_net: words: self_harm: từ 'cứa'" in warnings[1] + warnings[0]
    assert any("từ 'trói' khi gõ không dấu thường là 'trời'" in w for w in warnings), warnings
