"""Work shared while one message is answered, and forgotten with its reply.

Several layers look at the same message: the triage model and the ranker analyse the same folded
text with the same n-gram analysers, and a check-tier reply asks the triage rules again for the
danger its button confirms. Inside `scope()` (one `Responder.respond` call) they keep what they
worked out (`once`, `memo()`); outside it `memo()` is None and nothing is kept, so no user text
outlives its reply (issue 16).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_MEMO: ContextVar[dict[Hashable, Any] | None] = ContextVar("one_message_memo", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """Answer one message: what is kept in `memo()` lives until the block ends."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def memo() -> dict[Hashable, Any] | None:
    """The current message's memo, or None outside `scope()`."""
    return _MEMO.get()


def once(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, worked out once per message inside `scope()` (every call outside it)."""
    kept = _MEMO.get()
    if kept is None:
        return compute()
    if key not in kept:
        kept[key] = compute()
    found: T = kept[key]
    return found
