"""The command names users type, for every edge: one table, so Telegram and the terminal agree.

Each action has its names (without the slash); Telegram registers them all, the terminal
accepts them all. Names are ASCII (Telegram allows only a-z, 0-9 and _ in commands).
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, ...]] = {
    "start": ("start",),
    "role": ("vaitro",),
    "help": ("help", "trogiup"),
    "privacy": ("privacy", "riengtu"),
    "hotline": ("111", "sos"),
    "topics": ("chude",),
    "forget": ("xoa",),
    "reload": ("reload",),
    "stats": ("stats",),
    "exit": ("exit", "quit", "thoat"),  # the terminal only
}
_ACTION = {name: action for action, names in COMMANDS.items() for name in names}


def parse_command(line: str) -> tuple[str | None, str]:
    """`/name rest` -> (action, rest); (None, line) when the line is not a known command."""
    if not line.startswith("/"):
        return None, line
    name, _, rest = line[1:].partition(" ")
    action = _ACTION.get(name.split("@", 1)[0].lower())
    return (action, rest.strip()) if action else (None, line)
