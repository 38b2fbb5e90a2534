"""Checks between danger.yaml and the other knowledge files (entry ids, phone numbers)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.triage import DangerFile
from bot.core.yamlfile import Loc, LocatedYaml


def danger_entry_ids(danger: DangerFile) -> Iterable[tuple[Loc, str]]:
    """The entry ids danger.yaml names (each must be an entry), with where they are written."""
    for name, category in danger.categories.items():
        for field_name in ("entry_id", "entry_id_adult"):
            entry_id = getattr(category, field_name)
            if entry_id:
                yield ("categories", name, field_name), entry_id


PHONE_NUMBER = re.compile(r"(?<!\d)\d{3,}(?!\d)")


def unknown_numbers(danger: DangerFile, doc: LocatedYaml, known: set[str]) -> list[str]:
    """A phone number in an urgent reply must be one of hotlines.yaml (never invented)."""
    issues = []
    for name, category in danger.categories.items():
        for field_name in ("reply_child", "reply_adult"):
            for number in PHONE_NUMBER.findall(getattr(category, field_name)):
                if number not in known:
                    loc = ("categories", name, field_name)
                    issues.append(
                        f"{doc.path}:{doc.line(loc)}: categories.{name}.{field_name}: "
                        f"số {number} không có trong hotlines.yaml"
                    )
    return issues

