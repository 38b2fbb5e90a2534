"""Staff errors in plain Vietnamese: one error per fault, a sentence with the fix, no pydantic."""

import os
import shutil
import time
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.responder import Responder

BUNDLED = Path(__file__).resolve().parent.parent / "knowledge"
PYDANTIC_WORDS = ("Input should", "constrained-str", "String should", "AnswerVariants",
                  "required field", "unknown key", "List should", "Value error", "Field required",
                  "input is too short", "function-after")

ENTRY = """\
- id: muc-thu
  title: Mục thử
  questions:
    - câu hỏi thử một
    - cau hoi thu hai
  answer: Câu trả lời thử.
  sources: [Luật Trẻ em 2016, Điều 1]
  reviewed: 2026-11-28
  tags: [ky-nang]
"""


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(BUNDLED, target)
    return target


def issues_for(kb_dir: Path, text: str) -> list[str]:
    (kb_dir / "entries" / "zz-thu.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    for issue in info.value.issues:
        assert not any(word in issue for word in PYDANTIC_WORDS), issue
    return info.value.issues


def test_one_error_for_one_syntax_fault_in_a_file_others_refer_to(kb_dir):
    """One line one space too deep in a file that other files' `related` point into."""
    path = max((kb_dir / "entries").glob("*.yaml"), key=lambda p: p.stat().st_size)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith("  title:"))
    lines[number] = " " + lines[number]
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    assert len(info.value.issues) == 1, info.value.issues
    issue = info.value.issues[0]
    assert issue.startswith(f"{path}:")
    assert "lỗi cú pháp YAML" in issue and "thụt lề" in issue


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("  reviewed: 2026-11-28\n", "  reviewed: 2026-1\n", "reviewed",
         "ngày phải viết năm-tháng-ngày, ví dụ 2026-12-01"),
        ("  reviewed: 2026-11-28\n", "  reviewed: hôm qua\n", "reviewed",
         "ngày phải viết năm-tháng-ngày"),
        ("  reviewed: 2026-11-28\n", "  reviewed: 2026-13-01\n", "reviewed",
         "ngày phải viết năm-tháng-ngày"),
        ("  reviewed: 2026-11-28\n", "  reviewed: 1/12/2026\n", "reviewed",
         "ngày phải viết năm-tháng-ngày"),
        ("- id: muc-thu\n", "- id: Mục Thử\n", "id",
         "id chỉ gồm chữ thường không dấu, số và dấu gạch ngang"),
        ("  sources: [Luật Trẻ em 2016, Điều 1]\n", "", "sources", "thiếu trường bắt buộc"),
        ("  sources: [Luật Trẻ em 2016, Điều 1]\n", "  sources: []\n", "sources",
         "cần ít nhất 1 mục"),
        ("  answer: Câu trả lời thử.\n", "  answer: [a, b]\n", "answer",
         "sai kiểu: phải là một đoạn chữ hoặc một nhóm khoá"),
        ("  answer: Câu trả lời thử.\n", "  answer:\n    child: Chỉ cho trẻ.\n", "answer.default",
         "thiếu trường bắt buộc"),
        ("  title: Mục thử\n", "  title: " + "x" * 90 + "\n", "title", "dài quá: tối đa 80"),
        ("  title: Mục thử\n", "  title: ''\n", "title", "không được để trống"),
        ("  questions:\n", "  questions: 5\n", "questions", "sai kiểu: phải là một danh sách"),
        ("  reviewed: 2026-11-28\n", "  reviewed: 2026-11-28\n  tieu_de: x\n", "tieu_de",
         "tên khoá lạ"),
        ("  tags: [ky-nang]\n", "  tags: [ky-nang]\n  audience: [tre-em]\n", "audience.0",
         "chỉ được là một trong: 'child', 'parent' hoặc 'teacher'"),
        ("  answer: Câu trả lời thử.\n", "  answer: " + "a" * 5000 + "\n", "answer",
         "quá giới hạn 4096 ký tự của Telegram"),
    ],
)
def test_each_validation_error_kind_reads_as_plain_vietnamese(kb_dir, old, new, field, words):
    assert old in ENTRY
    issues = issues_for(kb_dir, ENTRY.replace(old, new))
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert len(issues) == 1, issues
    assert issues[0].startswith(f"{path}:"), issues
    assert f": {field}: " in issues[0], issues
    assert words in issues[0], issues


def test_a_wrong_hotline_number_and_a_wrong_config_value_are_plain_too(kb_dir, tmp_path):
    path = kb_dir / "hotlines.yaml"
    text = path.read_text(encoding="utf-8").replace("number: '111'", "number: 111 ext", 1)
    text = text.replace("number: \"111\"", "number: 111 ext", 1).replace("number: 111\n",
                                                                          "number: 111 ext\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    assert any("số điện thoại chỉ gồm chữ số" in issue for issue in info.value.issues), \
        info.value.issues


def test_duplicate_id_is_reported_at_the_copy_just_added(kb_dir):
    """The new copy sits in a file sorted before the original one: the error names it."""
    existing = next(iter(load_knowledge(kb_dir).entries))
    existing_file = next(p for p in sorted((kb_dir / "entries").glob("*.yaml"))
                         if f"id: {existing}\n" in p.read_text(encoding="utf-8"))
    added = kb_dir / "entries" / "aa-moi.yaml"
    past = time.time() - 3600
    for path in (kb_dir / "entries").glob("*.yaml"):
        os.utime(path, (past, past))
    added.write_text(ENTRY.replace("id: muc-thu", f"id: {existing}"), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    assert len(info.value.issues) == 1
    issue = info.value.issues[0]
    assert issue.startswith(f"{added}:1: {existing}: id: id này đã có ở {existing_file}:"), issue


def test_unknown_tag_and_danger_story_question_are_warned(kb_dir):
    text = ENTRY.replace("tags: [ky-nang]", "tags: [ky-nang, khong-co-chu-de-nay]").replace(
        "    - cau hoi thu hai\n",
        "    - cau hoi thu hai\n    - chú hàng xóm sờ vào chỗ kín của em\n",
    )
    (kb_dir / "entries" / "zz-thu.yaml").write_text(text, encoding="utf-8")
    kb = load_knowledge(kb_dir)
    path = kb_dir / "entries" / "zz-thu.yaml"
    assert any(w.startswith(f"{path}:10: muc-thu: tags: tag 'khong-co-chu-de-nay'")
               for w in kb.warnings), kb.warnings
    from bot.__main__ import knowledge_warnings

    warnings = knowledge_warnings(Responder(kb))
    assert any(w.startswith(f"{path}:6: muc-thu: questions: ") and "khẩn cấp" in w
               for w in warnings), [w for w in warnings if "muc-thu" in w]


@pytest.mark.parametrize(
    ("name", "old", "new", "field", "words"),
    [
        ("privacy.yaml", '  khong: "0"\n', '  khong: "10"\n', "digit_words.khong",
         "phải ứng với đúng một chữ số"),
        ("privacy.yaml", 'public_numbers: ["111",', 'public_numbers: ["111 ext",',
         "public_numbers.0", "chỉ được gồm chữ số"),
        ("privacy.yaml", "given_names: [", "given_name: [", "given_name", "tên khoá lạ"),
        ("triage_examples/child.yaml", "kind: sexual_abuse}", "kind: xam-hai}",
         "urgent.0.kind", "chỉ được là một trong: 'sexual_abuse'"),
        ("triage_examples/child.yaml", '  - {text: "chu e hay bat', '  - {kind: sexual_abuse, '
         'tex: "chu e hay bat', "unclear.0.tex", "tên khoá lạ"),
    ],
)
def test_privacy_and_triage_example_files_speak_plain_vietnamese(kb_dir, name, old, new, field,
                                                                 words):
    path = kb_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    changed = next(n for n, line in enumerate(text.replace(old, new, 1).splitlines(), 1)
                   if new.splitlines()[0] in line)
    issue = next(i for i in info.value.issues if f": {field}: " in i)
    assert issue.startswith(f"{path}:{changed}: {field}: "), info.value.issues
    assert words in issue, issue
    for issue in info.value.issues:
        assert not any(word in issue for word in PYDANTIC_WORDS), issue


@pytest.mark.parametrize(
    ("broken", "words"),
    [
        ("a: 1\n b: 2\n", "thụt lề"),
        ("x:\n\t- a\n", "Tab"),
        ("- {text: a kind: b}\n", "thiếu dấu phẩy"),
        ('a: "abc\n', "ngoặc kép"),
    ],
)
def test_a_yaml_syntax_error_is_explained_without_pyyaml_wording(kb_dir, broken, words):
    path = kb_dir / "triage_examples" / "moi.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir)
    assert len(info.value.issues) == 1, info.value.issues
    issue = info.value.issues[0]
    assert issue.startswith(f"{path}:") and "lỗi cú pháp YAML" in issue and words in issue
    assert not any(word in issue for word in ("expected", "found", "allowed", "token")), issue


def test_kb_test_names_the_line_of_a_question_that_lands_elsewhere_in_vietnamese(kb_dir):
    """A new entry that copies another entry's question word for word: `kb test` points at the
    copy's line and says what to do, in Vietnamese."""
    from bot.__main__ import kb_test_failures

    text = ENTRY.replace("    - cau hoi thu hai\n", "    - tổng đài bảo vệ trẻ em số mấy\n")
    path = kb_dir / "entries" / "zz-thu.yaml"
    path.write_text(text, encoding="utf-8")
    _, failures = kb_test_failures(Responder(load_knowledge(kb_dir)))
    mine = [f for f in failures if "muc-thu" in f]
    assert len(mine) == 1, failures
    assert mine[0].startswith(f"{path}:5: muc-thu: questions: câu 'tổng đài bảo vệ trẻ em số mấy'")
    assert "thay vì mục này" in mine[0]
