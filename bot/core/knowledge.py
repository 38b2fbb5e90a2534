"""The knowledge base: schemas for staff-edited YAML, loading, and validation that names lines.

Layout of a knowledge folder:
- `entries/*.yaml`: lists of entries (questions and answers);
- `lexicon.yaml`: teencode, abbreviations, synonyms (schema in `bot.core.text`);
- `hotlines.yaml`: phone lines shown on the hotline card;
- `danger.yaml`: urgent-triage phrases and replies (schema in `bot.core.triage`);
- `ui.yaml`: every other word a user reads (start, help, menus, fallbacks);
- `examples/*.yaml`: more ways to ask per entry, and out-of-scope messages (matcher training).

Loading collects every problem before failing, so staff fix a file in one pass; a failed load
raises `KnowledgeError` and the caller keeps the knowledge base it already had.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from bot.core.counsel import CounselTexts
from bot.core.dangerchecks import danger_entry_ids, unknown_numbers
from bot.core.example_check import ExampleCheckTexts
from bot.core.examples import Examples, load_examples
from bot.core.guided_report import ReportTexts
from bot.core.reportlabels import report_label_issues
from bot.core.templates import slots
from bot.core.text import Lexicon
from bot.core.triage import DangerFile, ExampleSet
from bot.core.yamlfile import (
    IssuesError,
    Loc,
    LocatedYaml,
    YamlSyntaxError,
    format_validation_error,
    load_located,
)
from bot.privacy.lists import PrivacyLists

Audience = Literal["child", "parent", "teacher"]
AUDIENCES: tuple[Audience, ...] = ("child", "parent", "teacher")
TELEGRAM_MESSAGE_LIMIT = 4096

# /stats figures (bot.store's day_stats and the staff line's counts), the slots `stats` may use
STATS_SLOTS = ("messages", "answer", "did_you_mean", "fallback", "urgent", "helpful",
               "not_helpful", "cases", "relayed", "first_reply_minutes")
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]


def _fits_in_a_message(value: str | None) -> str | None:
    if value is not None and len(value) > TELEGRAM_MESSAGE_LIMIT:
        raise ValueError(
            f"câu trả lời dài {len(value)} ký tự, quá giới hạn {TELEGRAM_MESSAGE_LIMIT} ký tự "
            "của Telegram: hãy rút ngắn (nên dưới 900 ký tự)"
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnswerVariants(_Strict):
    """An answer worded for each audience; `default` serves whoever has no variant."""

    default: Text
    child: Text | None = None
    parent: Text | None = None
    teacher: Text | None = None

    _fit = field_validator("default", "child", "parent", "teacher")(_fits_in_a_message)


class Entry(_Strict):
    """One question-and-answer entry of the knowledge base."""

    id: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    questions: list[Text] = Field(min_length=1)
    keywords: list[Text] = Field(default_factory=list)
    audience: list[Audience] = Field(default_factory=lambda: list(AUDIENCES))
    answer: Text | AnswerVariants
    sources: list[Text] = Field(min_length=1)
    reviewed: dt.date
    related: list[Slug] = Field(default_factory=list)
    tags: list[Slug] = Field(default_factory=list)

    @field_validator("answer")
    @classmethod
    def _answer_fits(cls, value: str | AnswerVariants) -> str | AnswerVariants:
        if isinstance(value, str):
            _fits_in_a_message(value)
        return value

    def answer_for(self, audience: str | None) -> str:
        """The variant written for `audience`, else the default."""
        if isinstance(self.answer, str):
            return self.answer
        variant = getattr(self.answer, audience, None) if audience in AUDIENCES else None
        return variant or self.answer.default


class Hotline(_Strict):
    """A phone line; only lines a seed plan or facts.md names belong here."""

    number: Annotated[str, StringConstraints(pattern=r"^[0-9]{3,12}$")]
    name: Text
    when: Text | None = None  # hours, only when a source states them
    cost: Text | None = None  # only when a source states it
    use_for: Text
    source: Text
    on_card: bool = True  # shown on the /111 hotline card


class HotlinesFile(_Strict):
    hotlines: list[Hotline] = Field(min_length=1)


class RoleTexts(_Strict):
    child: Text
    parent: Text
    teacher: Text


class Topic(_Strict):
    label: Text  # shown on the topic menu button, and in the staff coverage table
    tag: Slug  # entries with this tag are listed under the topic
    in_menu: bool = True  # false: a topic for the staff coverage table only


class SmallTalk(_Strict):
    phrases: list[Text] = Field(min_length=1)
    reply: Text


class TerminalTexts(_Strict):
    """Words only the terminal chat shows (it has no buttons: choices are typed numbers)."""

    hint: Text  # the terminal's commands, after the welcome and /help
    you: Text  # the prompt before what the user types
    bot: Text  # and before the bot's answer
    role_question: Text  # before the numbered roles
    role_unknown: Annotated[Text, slots("choice")]
    topic_choices: Text
    wrong_number: Annotated[Text, slots("number", "count")]
    xoa_done: Annotated[Text, slots("rows")]
    xoa_no_log: Text
    log_where: Annotated[Text, slots("path")]
    goodbye: Text


class UiTexts(_Strict):
    """Every word a user reads that is not an entry answer, so staff can reword it."""

    start: Text
    help: Text
    privacy: Text
    role_question: Text
    role_buttons: RoleTexts
    role_set: RoleTexts
    topics_intro: Text
    audience_names: RoleTexts
    topics: list[Topic] = Field(min_length=1)  # every topic tag, in the order staff read them
    topic_empty: Text
    did_you_mean: Text
    fallback: Text
    fallback_checked: Text  # the fallback under a check line: 111 is said once
    related_label: Text
    feedback_helpful: Text
    feedback_not_helpful: Text
    feedback_thanks: Text
    hotline_card_intro: Text
    hotline_card_outro: Text
    non_text: Text
    xoa_done: Text
    xoa_failed: Text  # /xoa when the deletion could not even be recorded (database unwritable)
    reload_ok: Annotated[Text, slots("entries", "questions")]
    reload_failed: Text
    reload_fit_failed: Text  # the learned layers could not be fitted (a child process failed)
    started_from_snapshot: Text
    not_admin: Text
    stats: Annotated[Text, slots(*STATS_SLOTS)]
    staff_alert: Annotated[Text, slots("marker", "category", "message", "audience", "time", "ref")]
    staff_audience_unknown: Text
    urgent_marker: Text
    check_line: Text  # the check tier's line for a child
    check_line_adult: Text  # ...and for a parent or teacher (the role chosen or stated)
    check_button_child: Text
    check_button_adult: Text
    check_pressed_alert: Annotated[Text, slots("button")]  # alert "message", button pressed
    terminal: TerminalTexts
    report: ReportTexts  # the guided report (/baotin)
    counsel: CounselTexts  # the anonymous line to staff (/gapnguoi)
    kb_test_examples: ExampleCheckTexts  # what `kb test` tells staff about triage_examples/
    smalltalk: list[SmallTalk] = Field(default_factory=list)

    @property
    def menu_topics(self) -> list[Topic]:
        """The topics users see on the menu and under /chude."""
        return [topic for topic in self.topics if topic.in_menu]

    def privacy_for(self, retention_days: int) -> str:
        """The /privacy text with the configured retention, so users read the real number."""
        return self.privacy.replace("{retention_days}", str(retention_days))


class KnowledgeError(IssuesError):
    """The knowledge folder has problems; `issues` lists each as file:line: id: field: message."""


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated, immutable knowledge base: swap the whole object to reload."""

    entries: dict[str, Entry]
    hotlines: list[Hotline]
    ui: UiTexts
    lexicon: Lexicon
    danger: DangerFile
    privacy: PrivacyLists
    files: list[Path] = field(default_factory=list)
    triage_examples: list[ExampleSet] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # accepted, but staff should look
    question_lines: dict[tuple[str, int], str] = field(default_factory=dict)  # "file:line"
    examples: Examples = field(default_factory=Examples)  # knowledge/examples/: matcher data
    # (examples file number, list name, item number) -> "file:line", for `kb test`
    example_lines: dict[tuple[int, str, int], str] = field(default_factory=dict)

    @property
    def question_count(self) -> int:
        return sum(len(entry.questions) for entry in self.entries.values())

    @property
    def out_of_scope(self) -> list[str]:
        """Messages that are not ours, for the matcher's "none" class: knowledge/examples/ and
        the triage examples' `out_of_scope` lists (both are learned, whichever staff edit)."""
        triage = [text for examples in self.triage_examples for text in examples.out_of_scope]
        return [*self.examples.out_of_scope, *triage]

    def vocabulary(self) -> list[str]:
        """Every text staff wrote (questions, titles, answers, keywords): the common words that
        redaction may leave standing when capitalised or after an address term."""
        texts: list[str] = []
        for entry in self.entries.values():
            texts += [entry.title, *entry.questions, *entry.keywords]
            answer = entry.answer
            texts += [answer] if isinstance(answer, str) else [
                v for v in (answer.default, answer.child, answer.parent, answer.teacher) if v
            ]
        texts += [*self.lexicon.abbreviations.values()]
        return texts

    def redaction_vocabulary(self) -> list[str]:
        """`vocabulary()` plus teencode and abbreviations as typed ("hnay", "ad", "mk"):
        redaction masks a capitalised word it does not know at a sentence's start, and these
        are common words, not names. (Words written in lower case in the example messages
        were tried too: they let nicknames such as "bi", "tí" through, and leaked more.)"""
        return [*self.vocabulary(), *self.lexicon.abbreviations, *self.lexicon.ambiguous]


M = TypeVar("M", bound=BaseModel)


def _entry_label(data: Any) -> Any:
    def label(loc: Loc) -> tuple[str | None, Loc]:
        if loc and isinstance(loc[0], int):
            item = data[loc[0]] if isinstance(data, list) and loc[0] < len(data) else None
            ident = item.get("id") if isinstance(item, dict) else None
            return (str(ident) if ident else f"mục thứ {loc[0] + 1}"), loc[1:]
        return None, loc

    return label


def _load_model(
    path: Path, model: type[M], issues: list[str]
) -> tuple[LocatedYaml | None, M | None]:
    if not path.is_file():
        issues.append(f"{path}:1: (tệp): thiếu tệp này: hãy lấy lại tệp từ kho mã")
        return None, None
    try:
        doc = load_located(path)
    except YamlSyntaxError as exc:
        issues.append(exc.issue)
        return None, None
    try:
        return doc, model.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        issues.extend(format_validation_error(doc, exc))
        return doc, None


def _load_entries(
    path: Path, issues: list[str]
) -> tuple[LocatedYaml | None, list[tuple[int, Entry]]]:
    """Validate entry by entry, so one bad entry does not hide the others' problems."""
    try:
        doc = load_located(path)
    except YamlSyntaxError as exc:
        issues.append(exc.issue)
        return None, []
    if doc.data is None:
        return doc, []
    if not isinstance(doc.data, list):
        issues.append(
            f"{path}:1: (tệp): tệp mục hỏi–đáp phải là một danh sách, "
            "mỗi mục bắt đầu bằng `- id: ...`"
        )
        return doc, []
    entries: list[tuple[int, Entry]] = []
    for index, item in enumerate(doc.data):
        try:
            entries.append((index, Entry.model_validate(item)))
        except ValidationError as exc:
            label = _entry_label(doc.data)
            issues.extend(format_validation_error(doc, exc, offset=(index,), label=label))
    return doc, entries


def entry_files(root: Path) -> list[Path]:
    return sorted((root / "entries").glob("*.yaml")) + sorted((root / "entries").glob("*.yml"))


def load_knowledge(root: Path | str) -> KnowledgeBase:
    """Load and validate the whole folder; raise KnowledgeError listing every problem."""
    root = Path(root)
    issues: list[str] = []
    if not root.is_dir():
        raise KnowledgeError([f"{root}:1: (thư mục): không tìm thấy thư mục kho kiến thức"])
    entries: dict[str, Entry] = {}
    where: dict[str, tuple[LocatedYaml, int]] = {}
    files = entry_files(root)
    if not files:
        issues.append(f"{root / 'entries'}:1: (thư mục): không có tệp entries/*.yaml nào")
    entries_complete = True  # every entries file parsed, so every id and tag is known
    known_ids: set[str] = set()  # ids written in the files, also those of invalid entries
    known_tags: set[str] = set()
    for path in files:
        doc, loaded = _load_entries(path, issues)
        if doc is None or not isinstance(doc.data, list | None):
            entries_complete = False  # a YAML syntax error, already listed
            continue
        for item in doc.data or ():
            if isinstance(item, dict):
                known_ids.add(str(item.get("id")))
                tags = item.get("tags")
                if isinstance(tags, list):
                    known_tags.update(str(tag) for tag in tags)
        for index, entry in loaded:
            if entry.id in entries:
                issues.append(_duplicate(entry.id, where[entry.id], (doc, index)))
                continue
            entries[entry.id] = entry
            where[entry.id] = (doc, index)
    # A file that does not parse leaves its entries unknown: checks that look entries up by id
    # or tag would report follow-on problems in files nobody touched, so they wait for the fix.
    for entry_id, entry in entries.items() if entries_complete else ():
        doc, index = where[entry_id]
        for position, target in enumerate(entry.related):
            if target not in known_ids:
                line = doc.line((index, "related", position))
                issues.append(
                    f"{doc.path}:{line}: {entry_id}: related: không có mục nào mang id "
                    f"'{target}': kiểm tra chính tả id, hoặc xoá nó khỏi related"
                )
    _, lexicon = _load_model(root / "lexicon.yaml", Lexicon, issues)
    _, hotlines = _load_model(root / "hotlines.yaml", HotlinesFile, issues)
    ui_doc, ui = _load_model(root / "ui.yaml", UiTexts, issues)
    danger_doc, danger = _load_model(root / "danger.yaml", DangerFile, issues)
    _, privacy = _load_model(root / "privacy.yaml", PrivacyLists, issues)
    issues += report_label_issues(root)[1]  # the report's words (loaded alone by `report`)
    if ui is not None and ui_doc is not None and entries and entries_complete:
        for index, topic in enumerate(ui.topics):
            if topic.tag not in known_tags:
                issues.append(
                    f"{ui_doc.path}:{ui_doc.line(('topics', index, 'tag'))}: topics.{index}.tag: "
                    f"chưa mục nào có tag '{topic.tag}', nên menu chủ đề này sẽ trống: "
                    f"thêm tag này vào ít nhất một mục"
                )
    if ui is not None and ui_doc is not None and danger is not None:
        for code in ui.report.harm.options:
            if code != "other" and code not in danger.categories:
                issues.append(
                    f"{ui_doc.path}:{ui_doc.line(('report', 'harm', 'options', code))}: "
                    f"report.harm.options.{code}: no danger category '{code}' in danger.yaml"
                )
    if danger is not None and danger_doc is not None and entries_complete:
        for loc, entry_id in danger_entry_ids(danger):
            if entry_id not in known_ids:
                field = ".".join(str(part) for part in loc)
                issues.append(
                    f"{danger_doc.path}:{danger_doc.line(loc)}: {field}: "
                    f"không có mục nào mang id '{entry_id}': kiểm tra chính tả id"
                )
    if danger is not None and danger_doc is not None and hotlines is not None:
        known = {line.number for line in hotlines.hotlines}
        issues.extend(unknown_numbers(danger, danger_doc, known))
    examples = load_examples(root, known_ids if entries_complete else None, issues)
    example_files = sorted((root / "triage_examples").glob("*.yaml"))
    example_sets: list[ExampleSet] = []
    example_lines: dict[tuple[int, str, int], str] = {}
    for path in example_files:
        example_doc, example_set = _load_model(path, ExampleSet, issues)
        if example_set is not None and example_doc is not None:
            for name, items in example_set:
                for number in range(len(items)):
                    line = example_doc.line((name, number))
                    example_lines[(len(example_sets), name, number)] = f"{path}:{line}"
            example_sets.append(example_set)
    if (
        issues
        or lexicon is None
        or hotlines is None
        or ui is None
        or danger is None
        or privacy is None
    ):
        raise KnowledgeError(issues)
    warnings = []
    topic_tags = {topic.tag for topic in ui.topics}
    for entry_id, (doc, index) in where.items():
        for position, tag in enumerate(entries[entry_id].tags):
            if tag not in topic_tags:
                warnings.append(
                    f"{doc.path}:{doc.line((index, 'tags', position))}: {entry_id}: tags: "
                    f"tag '{tag}' không có trong ui.yaml (topics): kiểm tra chính tả, hoặc "
                    f"khai báo chủ đề mới trong ui.yaml"
                )
    return KnowledgeBase(
        entries=entries,
        hotlines=hotlines.hotlines,
        ui=ui,
        lexicon=lexicon,
        danger=danger,
        privacy=privacy,
        files=[*files, *(root / name for name in _SIDE_FILES), *example_files, *examples.files],
        triage_examples=example_sets,
        example_lines=example_lines,
        warnings=warnings,
        examples=examples,
        question_lines={
            (entry_id, number): f"{doc.path}:{doc.line((index, 'questions', number))}"
            for entry_id, (doc, index) in where.items()
            for number in range(len(entries[entry_id].questions))
        },
    )


def _duplicate(
    entry_id: str, first: tuple[LocatedYaml, int], second: tuple[LocatedYaml, int]
) -> str:
    """Report a duplicate id at the copy just added: in the file edited last, else the later one.
    """
    def mtime(doc: LocatedYaml) -> float:
        try:
            return doc.path.stat().st_mtime
        except OSError:
            return 0.0

    old, new = first, second
    if first[0].path != second[0].path and mtime(first[0]) > mtime(second[0]):
        old, new = second, first
    (new_doc, new_index), (old_doc, old_index) = new, old
    return (
        f"{new_doc.path}:{new_doc.line((new_index, 'id'))}: {entry_id}: id: id này đã có ở "
        f"{old_doc.path}:{old_doc.line((old_index, 'id'))}: đặt một id khác (mỗi mục một id riêng)"
    )


_SIDE_FILES = ("lexicon.yaml", "hotlines.yaml", "ui.yaml", "danger.yaml", "privacy.yaml")
