"""`kb test` on the triage example messages (knowledge/triage_examples/): does each come out as
its author labelled it?

An urgent example must get the urgent reply (a "check" — the normal answer plus the 111 line
and button — is counted apart); a look-alike, a plain question or an out-of-scope message must
not get the urgent reply. Only an urgent example that gets neither (tier "none") fails the run:
that is a missed emergency. The examples are what the learned layer trains on, so a miss here
means the model cannot even fit it (add more wordings of it), not a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

if TYPE_CHECKING:
    from bot.core.responder import Responder

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
CALM_SECTIONS = ("lookalike", "question", "out_of_scope")  # must not get the urgent reply


class SectionNames(BaseModel):
    """How staff call each list of an examples file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urgent: Text
    unclear: Text
    lookalike: Text
    question: Text
    out_of_scope: Text


class ExampleCheckTexts(BaseModel):
    """Section `kb_test_examples` of ui.yaml: what `kb test` tells staff about the examples."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    heading: Text
    urgent_counts: Text  # {total} {urgent} {check} {none}
    unclear_counts: Text  # {total} {flagged}
    calm_counts: Text  # {section} {total} {alarms}
    missed: Text  # {where} {section} {text}
    only_check: Text  # {where} {section} {text}
    false_alarm: Text  # {where} {section} {text} {category}
    passed: Text
    failed: Text  # {none}
    sections: SectionNames


@dataclass
class ExampleCheck:
    """Counts and the lines to print; `missed` (urgent examples with tier none) fails."""

    urgent: int = 0
    urgent_ok: int = 0
    urgent_check: int = 0
    missed: int = 0
    unclear: int = 0
    unclear_flagged: int = 0
    calm: dict[str, list[int]] = field(default_factory=dict)  # section -> [total, alarms]
    problems: list[str] = field(default_factory=list)

    def summary(self, texts: ExampleCheckTexts) -> list[str]:
        """The counts in plain Vietnamese, then the verdict."""
        lines = [
            texts.heading,
            texts.urgent_counts.format(
                total=self.urgent, urgent=self.urgent_ok, check=self.urgent_check,
                none=self.missed,
            ),
            texts.unclear_counts.format(total=self.unclear, flagged=self.unclear_flagged),
        ]
        for section, (total, alarms) in self.calm.items():
            name = getattr(texts.sections, section)
            lines.append(texts.calm_counts.format(section=name, total=total, alarms=alarms))
        lines.append(texts.failed.format(none=self.missed) if self.missed else texts.passed)
        return lines


def check_examples(responder: Responder, texts: ExampleCheckTexts) -> ExampleCheck:
    """Run every example message through the whole reply path (no role chosen)."""
    kb = responder.kb
    names = texts.sections
    result = ExampleCheck(calm={section: [0, 0] for section in CALM_SECTIONS})
    for set_no, examples in enumerate(kb.triage_examples):

        def where(section: str, number: int, set_no: int = set_no) -> str:
            return kb.example_lines.get((set_no, section, number), "?")

        for number, example in enumerate(examples.urgent):
            result.urgent += 1
            reply = responder.respond(example.text)
            if reply.urgent:
                result.urgent_ok += 1
                continue
            line = texts.missed if not reply.check else texts.only_check
            result.problems.append(
                line.format(where=where("urgent", number), section=names.urgent, text=example.text)
            )
            if reply.check:
                result.urgent_check += 1
            else:
                result.missed += 1
        for example in examples.unclear:
            result.unclear += 1
            reply = responder.respond(example.text)
            result.unclear_flagged += reply.urgent or reply.check
        for section in CALM_SECTIONS:
            counts = result.calm[section]
            for number, text in enumerate(getattr(examples, section)):
                counts[0] += 1
                reply = responder.respond(text)
                if not reply.urgent:
                    continue
                counts[1] += 1
                category = kb.danger.categories.get(reply.category or "")
                result.problems.append(
                    texts.false_alarm.format(
                        where=where(section, number), section=getattr(names, section),
                        text=text, category=category.name if category else reply.category,
                    )
                )
    return result
