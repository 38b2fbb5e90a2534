"""Extra example questions for the matcher, kept apart from the entries (knowledge/examples/).

Why a separate folder: an entry's own `questions` are a short list staff curate and `kb test`
routes home one by one; the examples are many more ways real people ask (written by independent
authors, a few hundred a file), which the ranker's classifier learns from but which no single
entry has to pass. Out-of-scope messages ("tổng đài điện lực số mấy") teach the classifier what
is not ours, so such messages get the fallback instead of a confident answer.

A file is a mapping: `questions` (entry id -> list of messages) and `out_of_scope` (a list).
Every id must be an entry's id; a wrong one is reported at its file:line, in Vietnamese.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.yamlfile import YamlSyntaxError, format_validation_error, load_located

FOLDER = "examples"


class ExamplesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    author: str | None = None  # who wrote the messages, and when (for staff)
    questions: dict[str, list[str]] = Field(default_factory=dict)
    out_of_scope: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Examples:
    """All example files merged: extra questions by entry id, and out-of-scope messages."""

    questions: dict[str, list[str]] = field(default_factory=dict)
    out_of_scope: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(texts) for texts in self.questions.values()) + len(self.out_of_scope)


def example_files(root: Path) -> list[Path]:
    return sorted((root / FOLDER).glob("*.yaml"))


def load_examples(root: Path, known_ids: set[str] | None, issues: list[str]) -> Examples:
    """Read knowledge/examples/*.yaml; problems go to `issues` as file:line: field: message.

    `known_ids`: the entries' ids, or None when an entries file is broken (ids are then not
    checked, so no follow-on error is reported in a file nobody touched).
    """
    questions: dict[str, list[str]] = {}
    out_of_scope: list[str] = []
    files = example_files(root)
    for path in files:
        try:
            doc = load_located(path)
        except YamlSyntaxError as exc:
            issues.append(exc.issue)
            continue
        try:
            data = ExamplesFile.model_validate(doc.data if doc.data is not None else {})
        except ValidationError as exc:
            issues.extend(format_validation_error(doc, exc))
            continue
        for entry_id, texts in data.questions.items():
            if known_ids is not None and entry_id not in known_ids:
                issues.append(
                    f"{path}:{doc.line(('questions', entry_id))}: questions.{entry_id}: "
                    f"không có mục nào mang id '{entry_id}': kiểm tra chính tả id, hoặc chuyển "
                    f"các câu này sang mục đúng"
                )
                continue
            for number, text in enumerate(texts):
                if not text.strip():
                    issues.append(f"{path}:{doc.line(('questions', entry_id, number))}: "
                                  f"questions.{entry_id}: câu hỏi mẫu trống: xoá dòng này")
            questions.setdefault(entry_id, []).extend(t.strip() for t in texts if t.strip())
        out_of_scope.extend(t.strip() for t in data.out_of_scope if t.strip())
    return Examples(questions, out_of_scope, files)
