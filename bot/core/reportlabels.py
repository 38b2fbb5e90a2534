"""The words of `python -m bot report`, from knowledge/report.yaml so staff can reword them.

A file of its own, loaded on its own: the report must still run while a staff member is
halfway through fixing an entry file (`kb check` validates it with the rest of the folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from bot.core.templates import slots
from bot.core.yamlfile import IssuesError, YamlSyntaxError, format_validation_error, load_located

REPORT_FILE = "report.yaml"
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ReportLabels(BaseModel):
    """Headings, row labels and messages of the interaction report (`{slots}` filled in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[Text, slots("since", "until", "days", "offset")]
    total: Annotated[Text, slots("total")]
    per_day: Text
    shares: Text
    band_answer: Text
    band_did_you_mean: Text
    band_fallback: Text
    others: Text
    staff_line: Annotated[Text, slots("cases", "relayed", "first_replies", "minutes")]
    urgent: Text
    top_entries: Text
    not_helpful: Annotated[Text, slots("helpful", "not_helpful")]
    not_helpful_row: Annotated[Text, slots("bad", "good")]
    unanswered: Annotated[Text, slots("total")]
    also_asked: Annotated[Text, slots("variant")]
    suggest: Annotated[Text, slots("target")]
    no_entry_near: Text
    nothing: Text
    no_log: Annotated[Text, slots("path")]
    unreadable: Annotated[Text, slots("path", "detail")]
    csv_failed: Annotated[Text, slots("path", "errno")]
    csv_written: Annotated[Text, slots("path")]

    def band(self, band: str) -> str:
        return {"answer": self.band_answer, "did-you-mean": self.band_did_you_mean,
                "fallback": self.band_fallback}[band]


def report_label_issues(root: Path) -> tuple[ReportLabels | None, list[str]]:
    """The labels in `root`/report.yaml, or None and the problems as file:line: field: message."""
    path = Path(root) / REPORT_FILE
    if not path.is_file():
        return None, [f"{path}:1: (tệp): thiếu tệp này: hãy lấy lại tệp từ kho mã"]
    try:
        doc = load_located(path)
    except YamlSyntaxError as exc:
        return None, [exc.issue]
    try:
        return ReportLabels.model_validate(doc.data if doc.data is not None else {}), []
    except ValidationError as exc:
        return None, format_validation_error(doc, exc)


def load_report_labels(root: Path) -> ReportLabels:
    """The report's words; IssuesError (file, line, field, in Vietnamese) when the file is bad."""
    labels, issues = report_label_issues(root)
    if labels is None:
        raise IssuesError(issues)
    return labels
