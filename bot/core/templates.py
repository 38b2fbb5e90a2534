"""Texts with `{name}` slots that the bot fills: checked on load, filled without surprises.

Staff reword these in `knowledge/`; a slot renamed by mistake (`{thoi_gian}` for `{time}`) or
an unclosed brace must be a `kb check` error naming the file and line, not a crash the first
time a staff alert or a report is sent.
"""

from __future__ import annotations

import re
import string
from typing import Any

from pydantic import AfterValidator

_SLOT = re.compile(r"\{([^{}]*)\}")


def _checker(names: tuple[str, ...]) -> Any:
    allowed = set(names)
    listed = ", ".join(f"{{{name}}}" for name in names) or "(không có chỗ trống nào)"

    def check(text: str) -> str:
        try:
            parsed = string.Formatter().parse(text)
            found = [field for _, field, _, _ in parsed if field is not None]
        except ValueError:
            raise ValueError(
                "dấu ngoặc { } không khớp: mỗi chỗ trống viết liền trong một cặp ngoặc, ví dụ "
                f"{{{names[0] if names else 'ten'}}}; chỗ trống dùng được: {listed}"
            ) from None
        for field in found:
            if field not in allowed:
                raise ValueError(
                    f"chỗ trống {{{field}}} không có: chỉ dùng được {listed} (giữ nguyên tên "
                    "trong ngoặc, chỉ sửa chữ quanh nó)"
                )
        return text

    return check


def slots(*names: str) -> AfterValidator:
    """Validation for a text whose `{slots}` may only be `names`:
    `field: Annotated[Text, slots("ref")]`."""
    return AfterValidator(_checker(names))


def fill(template: str, **values: object) -> str:
    """The template with each `{name}` replaced; a text checked by `Template` has no others."""
    return _SLOT.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)
