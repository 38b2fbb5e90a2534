"""Knowledge files that would hang or crash the loader: one plain error naming file and line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.core import yamlfile
from bot.core.yamlfile import YamlSyntaxError, load_located

BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(YamlSyntaxError) as caught:
        load_located(path)
    assert time.perf_counter() - started < 2.0
    assert str(path) in caught.value.issue
    assert "alias" in caught.value.issue


def test_recursive_alias_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("entries:\n  - &x\n    id: a\n    more: *x\n", encoding="utf-8")
    with pytest.raises(YamlSyntaxError) as caught:
        load_located(path)
    assert "recursive alias" in caught.value.issue
    assert f"{path}:" in caught.value.issue


def test_large_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlfile, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 200 + "\n", encoding="utf-8")
    with pytest.raises(YamlSyntaxError) as caught:
        load_located(path)
    assert "too large" in caught.value.issue


def test_a_few_ordinary_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {k: 1}\nx: *b\ny: *b\n", encoding="utf-8")
    doc = load_located(path)
    assert doc.data["y"] == {"k": 1}
