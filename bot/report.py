"""Staff report over the interaction log: what people ask, and where the bot fails.

The most useful part is the last one: unanswered messages (fallback and did-you-mean) grouped by
similarity, each group with the entry it came closest to, so staff know which entry to extend
with a new question, or that a new entry is needed. Messages are already redacted in the log.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from rapidfuzz import fuzz, process

from bot.core.reportlabels import ReportLabels
from bot.core.templates import fill
from bot.core.text import canonical, fold
from bot.helpcounts import read_counts
from bot.store import UTC_OFFSET_HOURS


def _normalise(text: str) -> str:
    """The core's canonical, diacritic-free form: rephrasings group together."""
    return fold(canonical(text))


BANDS = ("answer", "did-you-mean", "fallback")
UNANSWERED_BANDS = ("fallback", "did-you-mean")
GROUP_SIMILARITY = 70  # token_sort_ratio on normalised text; 70 joins rephrasings, not topics
MAX_GROUP_SEEDS = 200  # bounds clustering work: seeds are the most frequent distinct messages
MAX_GROUP_TEXTS = 3000  # distinct wordings considered, most frequent first (rarer ones are noise)
# A fallback names its nearest entry only from this score: below it the message is most likely
# out of scope ("giá vàng hôm nay" scores about 20), and adding it to an entry would be wrong.
NEAR_ENTRY_SCORE = 25.0


def is_question(message: str) -> bool:
    """False for a bare number (a menu pick) or a command: not a question staff should answer."""
    text = message.strip()
    return bool(text) and not text.startswith("/") and not text.replace(" ", "").isdigit()


@dataclass(frozen=True)
class UnansweredGroup:
    example: str  # the most frequent wording (redacted)
    count: int
    variants: tuple[str, ...]  # other wordings, most frequent first
    suggested_entry: str | None  # entry most often suggested for these messages


@dataclass(frozen=True)
class Report:
    since: str  # first local day included, YYYY-MM-DD
    until: str  # last local day included
    days: int
    total: int
    per_day: tuple[tuple[str, int], ...]
    bands: dict[str, int]
    urgent_by_category: tuple[tuple[str, int], ...]
    top_entries: tuple[tuple[str, int], ...]
    not_helpful: tuple[tuple[str, int, int], ...]  # entry, not helpful, helpful
    unanswered: tuple[UnansweredGroup, ...]
    unanswered_total: int = 0
    feedback: dict[str, int] = field(default_factory=dict)
    # The anonymous line to staff (bot.helpcounts): counts only, never what was written.
    staff_line: dict[str, float] = field(default_factory=dict)

    def share(self, band: str) -> float:
        """Share of all messages in `band`, 0-1."""
        return self.bands.get(band, 0) / self.total if self.total else 0.0


def _day(ts: int, utc_offset_hours: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts + utc_offset_hours * 3600))


def group_unanswered(
    rows: list[tuple[str, str | None, int]],
    *,
    limit: int = 15,
    similarity: float = GROUP_SIMILARITY,
    max_seeds: int = MAX_GROUP_SEEDS,
    max_texts: int = MAX_GROUP_TEXTS,
) -> tuple[UnansweredGroup, ...]:
    """Cluster (message, suggestion_id, count) rows by similarity of their normalised text.

    Greedy: distinct texts in order of frequency join the first seed they resemble, or become a
    new seed. Seeds and wordings are capped so the work stays bounded on a large log (about
    0.6 s at worst): a rare wording that resembles no seed, or beyond the `max_texts` most
    frequent, is left out of the groups.
    """
    texts: dict[str, Counter[str]] = {}  # normalised -> wordings
    suggestions: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    for message, suggestion_id, count in rows:
        key = _normalise(message)
        if not key:
            continue
        texts.setdefault(key, Counter())[message] += count
        if suggestion_id:
            suggestions.setdefault(key, Counter())[suggestion_id] += count
        totals[key] += count

    seeds: list[str] = []
    members: list[list[str]] = []
    ranked_keys = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:max_texts]
    for key, _ in ranked_keys:
        match = (
            process.extractOne(key, seeds, scorer=fuzz.token_sort_ratio, score_cutoff=similarity)
            if seeds
            else None
        )
        if match is not None:
            members[match[2]].append(key)
        elif len(seeds) < max_seeds:
            seeds.append(key)
            members.append([key])

    groups: list[UnansweredGroup] = []
    for keys in members:
        wordings: Counter[str] = Counter()
        suggested: Counter[str] = Counter()
        for key in keys:
            wordings.update(texts[key])
            suggested.update(suggestions.get(key, Counter()))
        ranked = [w for w, _ in sorted(wordings.items(), key=lambda kv: (-kv[1], kv[0]))]
        top = sorted(suggested.items(), key=lambda kv: (-kv[1], kv[0]))
        groups.append(
            UnansweredGroup(
                example=ranked[0],
                count=sum(wordings.values()),
                variants=tuple(ranked[1:4]),
                suggested_entry=top[0][0] if top else None,
            )
        )
    groups.sort(key=lambda g: (-g.count, g.example))
    return tuple(groups[:limit])


def build_report(
    db_path: Path,
    days: int = 7,
    *,
    now: float | None = None,
    top: int = 10,
    groups: int = 15,
    utc_offset_hours: int = UTC_OFFSET_HOURS,
) -> Report:
    """Figures for the last `days` local days (today included). Opens the database read-only."""
    if days < 1:
        raise ValueError("days must be >= 1")
    db_path = Path(db_path)
    if not db_path.exists():
        raise FileNotFoundError(str(db_path))
    now = time.time() if now is None else now
    offset = utc_offset_hours * 3600
    today_start = int((now + offset) // 86400 * 86400 - offset)
    start = today_start - (days - 1) * 86400
    day_names = [_day(start + i * 86400, utc_offset_hours) for i in range(days)]

    con = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        has_table = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'exchanges'"
        ).fetchone()
        if not has_table:
            empty = tuple((day, 0) for day in day_names)
            return Report(day_names[0], day_names[-1], days, 0, empty, {}, (), (), (), ())

        def query(sql: str, *params: object) -> list[tuple]:
            return con.execute(sql, (start, *params)).fetchall()

        per_day = dict.fromkeys(day_names, 0)
        for day_index, count in query(
            "SELECT (hour_ts - ?1) / 86400, COUNT(*) FROM exchanges WHERE hour_ts >= ?1 GROUP BY 1"
        ):
            if 0 <= day_index < days:
                per_day[day_names[day_index]] = count
        bands = dict(query("SELECT band, COUNT(*) FROM exchanges WHERE hour_ts >= ? GROUP BY 1"))
        urgent = query(
            "SELECT COALESCE(category, '?'), COUNT(*) FROM exchanges"
            " WHERE hour_ts >= ? AND urgent = 1 GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        top_entries = query(
            "SELECT entry_id, COUNT(*) FROM exchanges WHERE hour_ts >= ? AND entry_id IS NOT NULL"
            " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
            top,
        )
        not_helpful = query(
            "SELECT entry_id, SUM(helpful = 0), SUM(helpful = 1) FROM exchanges"
            " WHERE hour_ts >= ? AND entry_id IS NOT NULL AND helpful IS NOT NULL"
            " GROUP BY 1 HAVING SUM(helpful = 0) > 0 ORDER BY 2 DESC, 3, 1 LIMIT ?",
            top,
        )
        feedback_row = query(
            "SELECT COALESCE(SUM(helpful = 1), 0), COALESCE(SUM(helpful = 0), 0)"
            " FROM exchanges WHERE hour_ts >= ?"
        )[0]
        unanswered_rows = [
            row
            for row in query(
                "SELECT message, CASE WHEN band = 'did-you-mean' OR score >= ?2"
                " THEN suggestion_id END, COUNT(*) FROM exchanges"
                " WHERE hour_ts >= ?1 AND urgent = 0 AND band IN ('fallback', 'did-you-mean')"
                " GROUP BY 1, 2",
                NEAR_ENTRY_SCORE,
            )
            if is_question(row[0])
        ]
        staff_line = read_counts(con, start)
    finally:
        con.close()

    return Report(
        since=day_names[0],
        until=day_names[-1],
        days=days,
        total=sum(per_day.values()),
        per_day=tuple(per_day.items()),
        bands=bands,
        urgent_by_category=tuple(urgent),
        top_entries=tuple(top_entries),
        not_helpful=tuple(not_helpful),
        unanswered=group_unanswered(unanswered_rows, limit=groups),
        unanswered_total=sum(count for _, _, count in unanswered_rows),
        feedback={"helpful": feedback_row[0], "not_helpful": feedback_row[1]},
        staff_line=staff_line,
    )


def render_text(
    report: Report, labels: ReportLabels, names: dict[str, str] | None = None
) -> str:
    """The report as plain text for a terminal, in the words of knowledge/report.yaml.

    `names` gives a readable name for category and entry ids (from the knowledge base), so
    staff see "Xâm hại tình dục" rather than only "sexual_abuse".
    """
    names = names or {}
    nothing = f"  {labels.nothing}"

    def label(ident: str) -> str:
        return f"{names[ident]} ({ident})" if ident in names else ident

    lines = [
        fill(labels.title, since=report.since, until=report.until, days=report.days,
             offset=UTC_OFFSET_HOURS),
        fill(labels.total, total=report.total),
        "",
        labels.per_day,
    ]
    lines += [f"  {day}  {count:>6}" for day, count in report.per_day]
    lines += ["", labels.shares]
    for band in BANDS:
        lines.append(
            f"  {labels.band(band):<32} {report.bands.get(band, 0):>6}  ({report.share(band):.1%})"
        )
    others = report.total - sum(report.bands.get(b, 0) for b in BANDS)
    if others:
        lines.append(f"  {labels.others:<32} {others:>6}")
    line = report.staff_line
    if line:
        lines += ["", fill(labels.staff_line, cases=line.get("cases", 0),
                           relayed=line.get("relayed", 0),
                           first_replies=line.get("first_replies", 0),
                           minutes=line.get("first_reply_minutes", 0))]
    lines += ["", labels.urgent]
    lines += [f"  {label(cat):<48} {n:>6}" for cat, n in report.urgent_by_category] or [nothing]
    lines += ["", labels.top_entries]
    lines += [f"  {label(entry):<48} {n:>6}" for entry, n in report.top_entries] or [nothing]
    lines += ["", fill(labels.not_helpful, helpful=report.feedback.get("helpful", 0),
                       not_helpful=report.feedback.get("not_helpful", 0))]
    lines += [
        f"  {label(entry):<48} {fill(labels.not_helpful_row, bad=f'{bad:>4}', good=good)}"
        for entry, bad, good in report.not_helpful
    ] or [nothing]
    lines += ["", fill(labels.unanswered, total=report.unanswered_total)]
    if not report.unanswered:
        lines.append(nothing)
    for i, group in enumerate(report.unanswered, 1):
        lines.append(f"  {i:>2}. [{group.count}] {group.example}")
        for variant in group.variants:
            lines.append(f"        {fill(labels.also_asked, variant=variant)}")
        target = label(group.suggested_entry) if group.suggested_entry else labels.no_entry_near
        lines.append(f"        {fill(labels.suggest, target=target)}")
    return "\n".join(lines) + "\n"


def write_csv(report: Report, path: Path) -> None:
    """One table, one row per figure, so staff can open it in a spreadsheet (UTF-8 with BOM)."""
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["section", "item", "count", "share", "detail"])
        for day, count in report.per_day:
            writer.writerow(["per_day", day, count, "", ""])
        for band in BANDS:
            writer.writerow(
                ["band", band, report.bands.get(band, 0), f"{report.share(band):.4f}", ""]
            )
        for category, count in report.urgent_by_category:
            writer.writerow(["urgent", category, count, "", ""])
        for entry, count in report.top_entries:
            writer.writerow(["top_entry", entry, count, "", ""])
        for entry, bad, good in report.not_helpful:
            writer.writerow(["not_helpful", entry, bad, "", f"helpful={good}"])
        for group in report.unanswered:
            writer.writerow(
                [
                    "unanswered",
                    group.example,
                    group.count,
                    "",
                    " | ".join([f"suggested_entry={group.suggested_entry or ''}", *group.variants]),
                ]
            )


def run_report(
    db_path: Path,
    labels: ReportLabels,
    days: int = 7,
    csv_path: Path | None = None,
    *,
    out: TextIO | None = None,
    names: dict[str, str] | None = None,
) -> int:
    """`python -m bot report [--days N] [--csv FILE]`: print the report; returns an exit code."""
    out = out or sys.stdout
    try:
        report = build_report(Path(db_path), days)
    except FileNotFoundError:
        print(fill(labels.no_log, path=db_path), file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(fill(labels.unreadable, path=db_path, detail=exc), file=sys.stderr)
        return 1
    out.write(render_text(report, labels, names))
    if csv_path is not None:
        try:
            write_csv(report, Path(csv_path))
        except OSError as exc:
            print(fill(labels.csv_failed, path=csv_path, errno=exc.errno), file=sys.stderr)
            return 1
        out.write(fill(labels.csv_written, path=csv_path) + "\n")
    return 0
