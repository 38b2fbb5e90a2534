"""YAML with line numbers, so that every error a staff member sees names the file and the line.

PyYAML's plain `safe_load` forgets where each value came from. We compose the node tree, build the
data from it, and keep a map from each value's location (a tuple of keys and list indexes, the same
shape as pydantic's error `loc`) to its line. Pydantic errors are then rendered as
`file:line: id: field: message`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.staffmessages import plain_errors, plain_yaml_problem

Loc = tuple[Any, ...]

# A knowledge file is a few tens of kilobytes; an alias bomb is a few hundred bytes that expand
# to billions of nodes. Limits are checked before anything is built.
MAX_FILE_BYTES = 2_000_000
MAX_ALIASES = 100
MAX_NODES = 500_000


class IssuesError(Exception):
    """A file staff edit has problems; `issues` lists each as file:line: id: field: message.

    The one base of `KnowledgeError` (the knowledge folder) and `ConfigError` (the config file).
    """

    def __init__(self, issues: list[str]) -> None:
        super().__init__("\n".join(issues))
        self.issues = issues


class YamlSyntaxError(Exception):
    """A file that is not valid YAML; `issue` is ready to show to staff."""

    def __init__(self, issue: str) -> None:
        super().__init__(issue)
        self.issue = issue


class LocatedYaml:
    """The data of one YAML file and the line of every key and item in it."""

    def __init__(self, path: Path, data: Any, lines: dict[Loc, int]) -> None:
        self.path = path
        self.data = data
        self._lines = lines

    def line(self, loc: Loc) -> int:
        """The line of `loc`, or of its nearest enclosing value that exists in the file."""
        loc = tuple(loc)
        while loc:
            if loc in self._lines:
                return self._lines[loc]
            loc = loc[:-1]
        return self._lines.get((), 1)


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key: Any = key_node.value
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith(":int"):
                key = int(key)
            lines.setdefault(loc + (key,), key_node.start_mark.line + 1)
            _walk(value_node, loc + (key,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, loc + (index,), lines)


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that refuses many aliases (alias bombs) before the document is built."""

    aliases_seen = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases_seen += 1
            if self.aliases_seen > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_ALIASES} aliases (*name)", mark
                )
        return super().compose_node(parent, index)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_tree(path: Path, root: yaml.Node) -> None:
    """Refuse recursive aliases and trees that would expand to too many values: the expanded
    size of each shared node is computed once (depth-first, memoised), so a bomb costs
    microseconds, not the gigabytes building it would."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = 1 + sum(size[id(child)] for child in _children(node))
            if total > MAX_NODES:
                raise YamlSyntaxError(
                    f"{path}:{node.start_mark.line + 1}: YAML error: this value expands to more"
                    f" than {MAX_NODES} values (too many aliases)"
                )
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise YamlSyntaxError(f"{path}:{node.start_mark.line + 1}: YAML error: recursive alias")
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise YamlSyntaxError(
                    f"{path}:{child.start_mark.line + 1}: YAML error: recursive alias"
                )
            if id(child) not in size:
                stack.append((child, False))


def _date_as_written(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """Dates stay as written: pydantic checks them, so `2026-13-01` gets the plain "ngày phải
    viết năm-tháng-ngày" message instead of a crash while parsing."""
    return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None


_LimitedLoader.add_constructor("tag:yaml.org,2002:timestamp", _date_as_written)


_LIBYAML_LOADER: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


class _FastLoader(_LIBYAML_LOADER):
    """libyaml's parser and composer (about ten times faster than the pure-Python ones); any
    problem is re-read by `_LimitedLoader`, so staff see the same message either way."""


_FastLoader.add_constructor("tag:yaml.org,2002:timestamp", _date_as_written)


def _alias_count(root: yaml.Node) -> int:
    """How many times a node is reached again (each `*name` in the file)."""
    seen: set[int] = set()
    repeats = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            repeats += 1
            continue
        seen.add(id(node))
        stack.extend(_children(node))
    return repeats


def _fast_parse(path: Path, text: str) -> tuple[yaml.Node | None, Any] | None:
    """(node, data) read by libyaml, or None when the file needs the careful reader: a syntax
    error, too many aliases, a tree that expands too far."""
    try:
        loader = _FastLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            if _alias_count(node) > MAX_ALIASES:
                return None
            _check_tree(path, node)
            return node, loader.construct_document(node)
        finally:
            loader.dispose()
    except (yaml.YAMLError, YamlSyntaxError, RecursionError, ValueError, TypeError):
        return None


def load_located(path: Path) -> LocatedYaml:
    """Parse `path`; raise YamlSyntaxError naming file and line when it is not valid YAML,
    too large, or built from too many or recursive aliases."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlSyntaxError(
                f"{path}:1: file too large: {size} bytes (at most {MAX_FILE_BYTES})"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlSyntaxError(
            f"{path}:1: (tệp): không đọc được tệp (tệp phải là văn bản UTF-8): {exc}"
        ) from exc
    parsed = _fast_parse(path, text) if yaml.__with_libyaml__ else None
    if parsed is not None:
        node, data = parsed
        lines: dict[Loc, int] = {}
        if node is not None:
            _walk(node, (), lines)
        return LocatedYaml(path, data, lines)
    try:
        loader = _LimitedLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_tree(path, node)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or str(exc)
        raise YamlSyntaxError(
            f"{path}:{line}: (tệp): lỗi cú pháp YAML ở dòng này hoặc dòng ngay trên: "
            f"{plain_yaml_problem(problem)}"
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(
            f"{path}:1: (tệp): lỗi cú pháp YAML: {plain_yaml_problem(str(exc))}"
        ) from exc
    except (RecursionError, ValueError, TypeError) as exc:
        raise YamlSyntaxError(
            f"{path}:1: (tệp): lỗi YAML: {type(exc).__name__}: {exc}"
        ) from exc
    lines = {}
    if node is not None:
        _walk(node, (), lines)
    return LocatedYaml(path, data, lines)


def format_validation_error(
    doc: LocatedYaml,
    error: ValidationError,
    *,
    offset: Loc = (),
    label: Callable[[Loc], tuple[str | None, Loc]] | None = None,
) -> list[str]:
    """Render each pydantic error as `file:line: [id: ]field: message`, the message in plain
    Vietnamese (bot.core.staffmessages).

    `offset` is prepended to the error's loc to find it in the file (when a sub-tree was
    validated); `label` splits a loc into an item label (an entry id) and the field path.
    """
    data: Any = doc.data
    for part in offset:  # the sub-tree that was validated
        data = data[part] if isinstance(data, (dict, list)) else None
    issues = []
    for error_loc, message in plain_errors(data, error.errors()):
        loc = offset + error_loc
        who, field_loc = label(loc) if label else (None, loc)
        field = ".".join(str(part) for part in field_loc) or "(tệp)"
        prefix = f"{doc.path}:{doc.line(loc)}: "
        if who:
            prefix += f"{who}: "
        issues.append(f"{prefix}{field}: {message}")
    return issues
