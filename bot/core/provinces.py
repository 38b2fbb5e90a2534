"""The 34 provinces and centrally-run cities of Vietnam since 1/7/2025 (Nghị quyết 202/2025/QH15).

The list comes from the `vietnam-provinces` package (data from the General Statistics Office's
register of administrative units), never typed by hand. Loading checks the count, so a package
release that went back to the 63 old provinces, or a broken one, fails loudly at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process
from vietnam_provinces import Province as _PackageProvince

from bot.core.text import canonical, fold

PROVINCE_COUNT = 34  # after the 2025 merger
CITY_PREFIX = "Thành phố "


@dataclass(frozen=True)
class Place:
    """One province or city: its official code, full name and the short name for a button."""

    code: str
    name: str
    short: str


class ProvinceListError(RuntimeError):
    """The installed package does not hold the 34 current provinces."""


@cache
def provinces() -> tuple[Place, ...]:
    """Every province and city, in the official code order (north to south)."""
    places = tuple(
        Place(
            code=str(int(item.code)),
            name=item.name,
            short=item.name.removeprefix(CITY_PREFIX),
        )
        for item in _PackageProvince.iter_all()
    )
    if len(places) != PROVINCE_COUNT:
        raise ProvinceListError(
            f"vietnam-provinces lists {len(places)} provinces, expected {PROVINCE_COUNT} "
            "(the units since 1/7/2025); install a release with the 2025 data"
        )
    return places


def by_code(code: str) -> Place | None:
    return next((place for place in provinces() if place.code == code), None)


def _key(text: str) -> str:
    return fold(canonical(text)).removeprefix("thanh pho ").removeprefix("tinh ")


def find_province(text: str, aliases: dict[str, list[str]] | None = None) -> Place | None:
    """The province a typed text names ("ha noi", "TP HCM", "sai gon"), or None.

    `aliases` maps a province code to other names people use (from knowledge/ui.yaml).
    """
    typed = _key(text)
    if not typed:
        return None
    names: dict[str, str] = {_key(place.short): place.code for place in provinces()}
    for code, others in (aliases or {}).items():
        for other in others:
            names[_key(other)] = code
    if typed in names:
        return by_code(names[typed])
    found = process.extractOne(typed, list(names), scorer=fuzz.ratio, score_cutoff=85)
    return by_code(names[found[0]]) if found else None
