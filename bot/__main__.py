"""Command line: `python -m bot chat | ask | run | kb check | kb test | log purge | report`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from bot.config import ConfigError, Settings, load_settings
from bot.core.example_check import check_examples
from bot.core.fitting import FitError
from bot.core.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.core.responder import Responder
from bot.core.triage.net_lint import ambiguous_harm_words
from bot.core.yamlfile import IssuesError
from bot.services import build_services, keep_fitted_weights


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def _knowledge(settings: Settings, path: str | None = None) -> KnowledgeBase:
    return load_knowledge(Path(path) if path else settings.knowledge.path)


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.terminal import exit_past_a_blocked_reader, run_chat

    settings = _settings(args)
    keep_fitted_weights(settings, fit_in_a_child=False)
    services = build_services(settings, log="none" if args.no_log else "session")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: run_chat said goodbye already
        asyncio.run(run_chat(services, ignore_ctrl_c_when_leaving=True))
    exit_past_a_blocked_reader(0)
    return 0


def ask_record(responder: Responder, text: str, audience: str | None) -> dict:
    """The `ask --json` contract: exactly these keys, other tools depend on them."""
    reply = responder.respond(text, audience)
    return {
        "text": text,
        "urgent": reply.urgent,
        "entry": reply.entry_id,
        "score": reply.score,
        "answer": reply.text,
        "suggestions": [s.entry_id for s in reply.suggestions],
        "check": reply.check,
    }


def cmd_ask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    keep_fitted_weights(settings, fit_in_a_child=False)
    responder = build_services(settings).responder
    messages = [" ".join(args.text)] if args.text else (line.rstrip("\n") for line in sys.stdin)
    for text in messages:
        if not args.text and not text.strip():
            continue
        record = ask_record(responder, text, args.audience)
        if args.json:
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            print(record["answer"])
            for number, entry_id in enumerate(record["suggestions"], start=1):
                print(f"  [{number}] {responder.kb.entries[entry_id].title}")
            print()
    return 0


def _checked_knowledge(args: argparse.Namespace) -> tuple[Settings, KnowledgeBase | None]:
    """Load the knowledge named on the command line; print its problems when it fails."""
    settings = _settings(args)
    try:
        return settings, _knowledge(settings, args.path)
    except KnowledgeError as exc:
        for issue in exc.issues:
            print(issue)
        print(f"kho kiến thức: {len(exc.issues)} lỗi: CHƯA ĐẠT (bot vẫn dùng kho cũ cho đến khi "
              f"sửa xong)")
        return settings, None


def knowledge_warnings(responder: Responder) -> list[str]:
    """What loads but deserves a look: unknown tags, entry questions that read as a danger
    story (those messages go to the urgent reply, never to the entry), and safety-net words
    that typed without diacritics are mostly another word."""
    kb = responder.kb
    warnings = list(kb.warnings)
    for entry in kb.entries.values():
        for number, question in enumerate(entry.questions):
            if responder.respond(question).urgent:  # the whole triage: rules and model
                where = kb.question_lines.get((entry.id, number), "?")
                warnings.append(
                    f"{where}: {entry.id}: questions: bot đọc câu '{question}' như lời kể đang "
                    f"gặp nguy hiểm và trả lời khẩn cấp trước: nếu đây là câu hỏi thường, viết "
                    f"lại cho rõ là hỏi; lời kể nguy hiểm thuộc về danger.yaml"
                )
    staff_texts = [
        *kb.vocabulary(),
        *(text for texts in kb.examples.questions.values() for text in texts),
        *(text for examples in kb.triage_examples for text in examples.texts()),
    ]
    for found in ambiguous_harm_words(kb.danger, staff_texts):
        warnings.append(
            f"danger.yaml: safety_net: words: {found.category}: từ '{found.word}' khi gõ không "
            f"dấu thường là '{found.usual}' (từ này chỉ chiếm {found.share:.0%}): bot sẽ báo "
            f"khẩn cấp nhầm; hãy ghi thành cụm từ (ví dụ 'cứa tay', 'bị trói')"
        )
    return warnings


def cmd_kb_check(args: argparse.Namespace) -> int:
    settings, kb = _checked_knowledge(args)
    if kb is None:
        return 1
    from bot.coverage import stale_table_warning

    warnings = knowledge_warnings(Responder(kb, settings.matching.thresholds))
    root = Path(args.path) if args.path else settings.knowledge.path
    stale = stale_table_warning(Path(root) / "README.md", kb)
    warnings += [stale] if stale else []
    for warning in warnings:
        print("cảnh báo: " + warning)
    print(
        f"kho kiến thức: {len(kb.entries)} mục, {kb.question_count} câu hỏi mẫu, "
        f"{len(kb.files)} tệp, {len(warnings)} cảnh báo: ĐẠT"
    )
    return 0


def kb_test_failures(responder: Responder) -> tuple[int, list[str]]:
    """Run every entry question and every danger example; list each that lands elsewhere,
    in Vietnamese, an entry question at its file:line."""
    kb = responder.kb
    failures: list[str] = []
    checked = 0
    for entry in kb.entries.values():
        for number, question in enumerate(entry.questions):
            checked += 1
            reply = responder.respond(question)
            if reply.entry_id != entry.id:
                got = (f"mục {reply.entry_id}" if reply.entry_id
                       else "trả lời khẩn cấp" if reply.urgent else "không mục nào")
                where = kb.question_lines.get((entry.id, number), "?")
                failures.append(
                    f"{where}: {entry.id}: questions: câu '{question}' dẫn tới {got} (điểm "
                    f"{reply.score:.0f}) thay vì mục này: thêm vào câu những từ riêng của mục, "
                    f"hoặc bớt câu giống mục kia")
    danger_file = next((f for f in kb.files if f.name == "danger.yaml"), "danger.yaml")
    for text, expected in kb.danger.examples():
        checked += 1
        reply = responder.respond(text)
        category = reply.category if reply.urgent else None
        if category != expected:
            failures.append(
                f"{danger_file}: ví dụ '{text}': bot nhận là {category or 'không khẩn cấp'}, "
                f"cần là {expected or 'không khẩn cấp'}: thêm cụm từ vào loại này trong danger.yaml"
            )
    return checked, failures


def cmd_kb_test(args: argparse.Namespace) -> int:
    settings, kb = _checked_knowledge(args)
    if kb is None:
        return 1
    responder = Responder(kb, settings.matching.thresholds)
    checked, failures = kb_test_failures(responder)
    for failure in failures:
        print(failure)
    print(f"kb test: {checked} tin nhắn, {len(failures)} tin đi sai chỗ: "
          f"{'CHƯA ĐẠT' if failures else 'ĐẠT'}")
    # The triage examples: only a missed urgent example (no alarm, no check) fails the run.
    examples = check_examples(responder, kb.ui.kb_test_examples)
    for line in [*examples.problems, *examples.summary(kb.ui.kb_test_examples)]:
        print(line)
    return 1 if failures or examples.missed else 0


def cmd_kb_coverage(args: argparse.Namespace) -> int:
    from bot.coverage import coverage_table

    print(coverage_table(_knowledge(_settings(args), args.path)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.telegram.app import run
    from bot.telegram.logfilter import setup_logging
    from bot.telegram.preflight import telegram_problem

    settings = _settings(args)
    settings.require_telegram_secrets()
    problem = telegram_problem(settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    setup_logging(settings.logging.level)  # what the start-up does is logged too
    # The long-lived bot never imports scikit-learn: weights come from the cache, or from a
    # child process that fits them (issue 12: ~110 MB less memory).
    keep_fitted_weights(settings, fit_in_a_child=True)
    try:
        services = build_services(settings, log="telegram")
    except FitError as exc:  # serving beats memory: fit here rather than not start
        logging.getLogger(__name__).warning("%s; fitting in the bot process instead", exc)
        keep_fitted_weights(settings, fit_in_a_child=False)
        services = build_services(settings, log="telegram")
    run(settings, services)
    return 0


def cmd_log_purge(args: argparse.Namespace) -> int:
    from bot.store import run_purge

    settings = _settings(args)
    days = args.days if args.days is not None else settings.privacy.retention_days
    if days == 0 and not args.yes:
        print(f"--days 0 sẽ xoá TOÀN BỘ nhật ký tương tác ({settings.storage.database}).")
        try:
            answer = input("Gõ 'co' để xoá hết, phím khác để huỷ: ")
        except (EOFError, KeyboardInterrupt):
            answer = ""
        if _fold_answer(answer) not in ("co", "c", "yes", "y"):
            print("Đã huỷ, không xoá gì.")
            return 1
    deleted = asyncio.run(run_purge(settings.storage.database, days))
    print(f"Đã xoá {deleted} dòng nhật ký cũ hơn {days} ngày.")
    return 0


def _fold_answer(text: str) -> str:
    return text.strip().lower().replace("ó", "o")


def cmd_report(args: argparse.Namespace) -> int:
    from bot.core.reportlabels import load_report_labels
    from bot.report import run_report

    settings = _settings(args)
    try:  # the report's own words; a problem there is shown like any knowledge-base error
        labels = load_report_labels(settings.knowledge.path)
    except IssuesError as exc:
        print("\n".join(exc.issues), file=sys.stderr)
        return 1
    try:  # readable names for ids; the report still runs when the knowledge base is broken
        kb = _knowledge(settings)
        names = {entry_id: entry.title for entry_id, entry in kb.entries.items()}
        names |= {key: category.name for key, category in kb.danger.categories.items()}
    except KnowledgeError:
        names = {}
    return run_report(settings.storage.database, labels, days=args.days, csv_path=args.csv,
                      names=names)


def _day_count(minimum: int, example: str):
    """An argparse type: a whole number of days, at least `minimum`, refused in Vietnamese."""
    def parse(text: str) -> int:
        try:
            days = int(text)
        except ValueError:
            days = None
        if days is None or days < minimum:
            raise argparse.ArgumentTypeError(
                f"Số ngày phải là {minimum} hoặc lớn hơn (bạn gõ {text}). Ví dụ: {example}.")
        return days

    return parse


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors said in Vietnamese (its help stays as written)."""

    _WORDS = (
        ("the following arguments are required:", "thiếu:"),
        ("invalid choice:", "không có lệnh hay lựa chọn"),
        ("choose from", "chọn một trong"),
        ("unrecognized arguments:", "không hiểu:"),
        ("expected one argument", "cần một giá trị sau nó"),
        ("invalid int value:", "phải là một số nguyên, bạn gõ"),
    )

    def error(self, message: str) -> NoReturn:
        for english, vietnamese in self._WORDS:
            message = message.replace(english, vietnamese)
        message = message.replace("argument ", "")
        self.exit(2, f"{self.prog}: {message}\n(xem: {self.prog} --help)\n")


def _with_common(add_parser, common: argparse.ArgumentParser):
    def add(name: str, **kwargs):
        return add_parser(name, parents=[common], **kwargs)

    return add


def build_parser() -> argparse.ArgumentParser:
    # --config is accepted before or after the command: `python -m bot run --config x.yaml`.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", default=argparse.SUPPRESS, help="config YAML (default: built-in defaults)"
    )
    parser = _Parser(prog="python -m bot", description=__doc__, parents=[common])
    sub = parser.add_subparsers(dest="command", required=True, metavar="LỆNH")
    sub.add_parser = _with_common(sub.add_parser, common)  # type: ignore[method-assign]

    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--no-log", action="store_true", help="do not write the interaction log")
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", help="answer TEXT, or one message a line from stdin")
    ask.add_argument("--json", action="store_true", help="one JSON object a line")
    ask.add_argument("--audience", choices=["child", "parent", "teacher"])
    ask.add_argument("text", nargs="*")
    ask.set_defaults(func=cmd_ask)

    run = sub.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    run.set_defaults(func=cmd_run)

    kb = sub.add_parser("kb", help="check or test the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="LỆNH")
    kb_sub.add_parser = _with_common(kb_sub.add_parser, common)  # type: ignore[method-assign]
    check = kb_sub.add_parser("check", help="validate the knowledge folder")
    check.add_argument("path", nargs="?")
    check.set_defaults(func=cmd_kb_check)
    test = kb_sub.add_parser("test", help="route every question and danger example")
    test.add_argument("path", nargs="?")
    test.set_defaults(func=cmd_kb_test)
    coverage = kb_sub.add_parser("coverage", help="print the topic x audience coverage table")
    coverage.add_argument("path", nargs="?")
    coverage.set_defaults(func=cmd_kb_coverage)

    log = sub.add_parser("log", help="interaction log maintenance")
    log_sub = log.add_subparsers(dest="log_command", required=True, metavar="LỆNH")
    log_sub.add_parser = _with_common(log_sub.add_parser, common)  # type: ignore[method-assign]
    purge = log_sub.add_parser("purge", help="delete rows older than the retention")
    purge.add_argument("--days", type=_day_count(0, "--days 90 xoá các dòng cũ hơn 90 ngày"),
                       help="override privacy.retention_days (0: all)")
    purge.add_argument("--yes", action="store_true", help="with --days 0: do not ask first")
    purge.set_defaults(func=cmd_log_purge)

    report = sub.add_parser("report", help="staff report from the interaction log")
    report.add_argument("--days", type=_day_count(1, "--days 7 cho 7 ngày gần nhất"), default=7)
    report.add_argument("--csv", help="also write the report's tables to this CSV file")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `report | head` closed the pipe: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ConfigError as exc:
        print("Lỗi cấu hình:\n" + "\n".join(exc.issues), file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        print("Lỗi kho kiến thức:\n" + "\n".join(exc.issues), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
