"""Validation errors in the plain Vietnamese a staff member reads: one sentence, with the fix.

Pydantic's own wording ("Input should be a valid string", "String should match pattern ...")
means nothing to someone editing `knowledge/`; every error kind is translated here, and the
names pydantic gives to the branches of a union ("constrained-str", "AnswerVariants") are
dropped from the field path, so `answer.AnswerVariants.default` reads `answer.default`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import ErrorDetails

Loc = tuple[Any, ...]

_DATE = "ngày phải viết năm-tháng-ngày, ví dụ 2026-12-01"
_SLUG = "id chỉ gồm chữ thường không dấu, số và dấu gạch ngang, ví dụ tong-dai-111"
_DIGITS = "số điện thoại chỉ gồm chữ số liền nhau (3 đến 12 số), không dấu cách, dấu chấm hay chữ"

# What each kind of value is called, for "phải là ..." sentences.
_KIND = {
    "string_type": "một đoạn chữ",
    "model_type": "một nhóm khoá (mỗi dòng `khoá: giá trị`)",
    "model_attributes_type": "một nhóm khoá (mỗi dòng `khoá: giá trị`)",
    "dict_type": "một nhóm khoá (mỗi dòng `khoá: giá trị`)",
    "list_type": "một danh sách (mỗi mục một dòng bắt đầu bằng `- `)",
    "int_type": "một số nguyên",
    "int_parsing": "một số nguyên",
    "float_type": "một số",
    "float_parsing": "một số",
    "bool_type": "true hoặc false",
    "bool_parsing": "true hoặc false",
    "date_type": "một ngày (năm-tháng-ngày, ví dụ 2026-12-01)",
}


# PyYAML's syntax problems, by the start of its wording, in words staff can act on.
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "có dấu hai chấm ở chỗ không được: thường do dòng này "
     "thụt lề khác các dòng cùng cấp, hoặc do một câu có dấu hai chấm mà chưa đặt trong ngoặc kép"),
    ("found character '\\t'", "có ký tự Tab: chỉ dùng dấu cách để thụt lề"),
    ("expected ',' or '}'", "dòng viết kiểu {...} thiếu dấu phẩy giữa hai khoá hoặc thiếu dấu }"),
    ("expected ',' or ']'",
     "danh sách viết kiểu [...] thiếu dấu phẩy giữa hai mục hoặc thiếu dấu ]"),
    ("could not find expected ':'", "thiếu dấu hai chấm sau tên khoá"),
    ("did not find expected '-'", "thiếu dấu `- ` đầu mục, hoặc mục này thụt lề khác các mục khác"),
    ("did not find expected key", "thụt lề không khớp với các dòng cùng cấp"),
    ("expected <block end>", "thụt lề không khớp với các dòng cùng cấp"),
    ("found unexpected end of stream", "thiếu dấu ngoặc kép đóng ở cuối một câu"),
    ("found unknown escape character", "có dấu \\ trong ngoặc kép: bỏ nó, hoặc dùng ngoặc đơn"),
)


def plain_yaml_problem(problem: str) -> str:
    """PyYAML's description of a syntax error, in Vietnamese when it is a common one."""
    for start, message in _YAML_PROBLEMS:
        if problem.startswith(start):
            return message
    return ("kiểm tra thụt lề (số dấu cách đầu dòng phải bằng các dòng cùng cấp), dấu hai chấm "
            "sau tên khoá, dấu `- ` đầu mục và các dấu ngoặc")


def plain_message(item: ErrorDetails) -> str:
    """One Vietnamese sentence for one pydantic error, saying what to write instead."""
    kind = item["type"]
    ctx = item.get("ctx") or {}
    if kind == "missing":
        return "thiếu trường bắt buộc này: hãy thêm nó (xem mẫu trong knowledge/README.md)"
    if kind == "extra_forbidden":
        return ("tên khoá lạ: kiểm tra chính tả tên khoá (xem mẫu trong knowledge/README.md) "
                "hoặc xoá dòng này")
    if kind.startswith("date") or kind.startswith("datetime"):
        return _DATE
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if pattern.startswith("^[a-z0-9]"):
            return _SLUG
        if pattern.startswith("^[0-9]"):
            return _DIGITS
        return "giá trị không đúng dạng yêu cầu: xem mẫu trong knowledge/README.md"
    if kind == "string_too_short":
        return "không được để trống: hãy viết nội dung"
    if kind == "string_too_long":
        return f"dài quá: tối đa {ctx.get('max_length')} ký tự, hãy rút ngắn"
    if kind == "too_short":
        return f"cần ít nhất {ctx.get('min_length')} mục: hãy thêm (mỗi mục một dòng `- `)"
    if kind == "too_long":
        return f"nhiều quá: tối đa {ctx.get('max_length')} mục"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace(" or ", " hoặc ")
        return f"chỉ được là một trong: {expected}"
    if kind in ("value_error", "assertion_error"):
        error = ctx.get("error")
        return str(error) if error else "giá trị không hợp lệ"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = ctx.get("gt", ctx.get("ge", ctx.get("lt", ctx.get("le"))))
        side = "lớn hơn" if kind.startswith("greater") else "nhỏ hơn"
        return f"phải {side} {'hoặc bằng ' if kind.endswith('equal') else ''}{bound}"
    if kind in _KIND:
        return f"sai kiểu: phải là {_KIND[kind]}"
    return "giá trị không hợp lệ: xem mẫu trong knowledge/README.md"


def _clean_loc(data: Any, loc: Loc, keep_last: bool) -> tuple[Loc, bool]:
    """Drop the union-branch names pydantic puts in `loc`: the parts that are not in the data.

    Returns the cleaned loc and whether a branch name was dropped (the error came from a union).
    """
    cleaned: list[Any] = []
    node: Any = data
    dropped = False
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        in_dict = isinstance(node, dict) and part in node
        if in_dict or isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif last and keep_last and not (isinstance(part, str) and _is_branch_name(part)):
            node = None
        else:
            dropped = True
            continue
        cleaned.append(part)
    return tuple(cleaned), dropped


def _named_item(data: Any, loc: Loc, item: ErrorDetails) -> Loc:
    """A list or mapping validator's error that quotes one item ('khong') points at that item's
    line, not at the list's first line."""
    if item["type"] != "value_error":
        return loc
    node: Any = data
    for part in loc:
        node = node[part] if isinstance(node, (dict, list)) else None
    for quoted in re.findall(r"'([^']+)'", str((item.get("ctx") or {}).get("error", ""))):
        if isinstance(node, dict) and quoted in node:
            return (*loc, quoted)
        if isinstance(node, list) and quoted in node:
            return (*loc, node.index(quoted))
    return loc


def _is_branch_name(part: str) -> bool:
    """Pydantic's names for union branches: "constrained-str", "AnswerVariants", "str"."""
    return "-" in part or "[" in part or part[:1].isupper() or part in ("str", "int", "date")


def plain_errors(data: Any, errors: list[ErrorDetails]) -> list[tuple[Loc, str]]:
    """Each error's loc (as found in the file) and its message; a union gives one message."""
    located: list[tuple[Loc, bool, ErrorDetails]] = []
    for item in errors:
        loc, dropped = _clean_loc(data, tuple(item["loc"]), keep_last=item["type"] in (
            "missing", "extra_forbidden"))
        located.append((loc, dropped, item))
    results: list[tuple[Loc, str]] = []
    seen: set[Loc] = set()
    for loc, dropped, item in located:
        if not dropped:
            results.append((_named_item(data, loc, item), plain_message(item)))
            continue
        # A union: errors from a branch whose shape matched (deeper locs) say what is wrong;
        # the other branches' type errors at the union itself are noise.
        deeper = [other for other_loc, d, other in located
                  if d and len(other_loc) > len(loc) and other_loc[: len(loc)] == loc]
        if deeper and item["type"] in _KIND:
            continue
        if item["type"] in _KIND:
            if loc in seen:
                continue
            seen.add(loc)
            kinds = [_KIND[other["type"]] for other_loc, d, other in located
                     if d and other_loc == loc and other["type"] in _KIND]
            unique = list(dict.fromkeys(kinds))
            results.append((loc, "sai kiểu: phải là " + " hoặc ".join(unique)))
            continue
        results.append((loc, plain_message(item)))
    return results
