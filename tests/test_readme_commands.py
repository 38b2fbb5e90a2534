"""The commands in README.md and knowledge/README.md, run exactly as written after the set-up.

A newcomer copies them: each must name the venv's interpreter or the console script (a bare
`python -m bot` fails outside an activated venv), parse, and the safe ones must run cleanly.
"""

import asyncio
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import build_parser
from bot.core.responder import Reply
from bot.store import InteractionLog

ROOT = Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", ROOT / "knowledge" / "README.md"]
PREFIXES = (".venv/bin/python -m bot", ".venv/bin/child-protection-bot")
SAFE = {("ask",), ("kb", "check"), ("kb", "test"), ("kb", "coverage"), ("report",),
        ("log", "purge")}


def documented_commands() -> list[str]:
    """Every inline code span or code-block line that invokes the bot."""
    found: list[str] = []
    for readme in READMES:
        text = readme.read_text(encoding="utf-8")
        spans = re.findall(r"`([^`\n]+)`", text)
        blocks = [line for block in re.findall(r"```\w*\n(.*?)```", text, re.S)
                  for line in block.splitlines()]
        for candidate in spans + blocks:
            for piece in candidate.split("&&"):
                piece = piece.strip()
                if re.search(r"(python3? -m bot|child-protection-bot)\b", piece):
                    found.append(piece)
    return found


def runnable(command: str, tmp_path: Path | None = None) -> list[str]:
    """The README's synopsis made concrete: every optional [..] part filled in with a value."""
    values = {"N": "30", "PATH": "knowledge", "TEXT": "tổng đài 111 là gì",
              "FILE": str((tmp_path or Path("/tmp")) / "report.csv")}
    words = shlex.split(command.replace("[", " ").replace("]", " "))
    return [values.get(word, word) for word in words]


def subcommand(argv: list[str]) -> tuple[str, ...]:
    args = argv[3:] if argv[:3] == [".venv/bin/python", "-m", "bot"] else argv[1:]
    return tuple(a for a in args if not a.startswith("-"))[:2]


def test_every_documented_command_runs_after_the_setup():
    commands = documented_commands()
    assert len(commands) >= 10, commands
    for command in commands:
        assert command.startswith(PREFIXES), f"not runnable after the README set-up: {command}"
    subcommands = {subcommand(runnable(c)) for c in commands}
    assert {("kb", "coverage"), ("kb", "check"), ("kb", "test")} <= subcommands


async def write_some_log(database: Path) -> None:
    """A log with a few exchanges, as the terminal chat or Telegram would leave it."""
    log = InteractionLog(database, b"readme", linger=0)
    await log.start()
    log.record(1, "child", "tổng đài 111", Reply(parts=("…",), band="answer", score=90.0,
                                                  entry_id="tong-dai-111"))
    log.record(1, "parent", "hỏi gì đó lạ", Reply(parts=("…",), band="fallback", score=10.0))
    await log.close()


@pytest.mark.parametrize(
    "command", sorted({c for c in documented_commands() if subcommand(runnable(c))})
)
def test_readme_command_as_written(command, tmp_path):
    argv = runnable(command, tmp_path)
    script = Path(sys.executable).parent / "child-protection-bot"
    if argv[0] == ".venv/bin/child-protection-bot":
        assert script.exists(), "the console script is installed by the README's set-up"
        argv = [str(script), *argv[1:]]
        args = argv[1:]
    else:
        assert argv[:3] == [".venv/bin/python", "-m", "bot"]
        argv = [sys.executable, *argv[1:]]
        args = argv[3:]
    if "--config" in args:  # `run --config config.yaml`: the parser accepts it
        build_parser().parse_args(args)
        return
    build_parser().parse_args(args)  # every documented command parses
    words = tuple(a for a in args if not a.startswith("-"))[:2]
    if not any(words[: len(safe)] == safe for safe in SAFE):
        return  # chat and run need a person or a network
    asyncio.run(write_some_log(tmp_path / "log.sqlite3"))
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  database: {tmp_path / 'log.sqlite3'}\n", encoding="utf-8")
    result = subprocess.run(
        [*argv, "--config", str(config)], input="tong dai 111 la gi\n", capture_output=True,
        text=True, cwd=ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip()
