"""Where the learned layers' fitted weights come from (issue 12): a store, else a fit.

Fitting needs scikit-learn (~110 MB of memory in the process that imports it); applying the
weights needs numpy only. So the models ask `obtain` for their weights as plain arrays: the
configured store answers when it holds weights for this key (a digest of the training data, the
fitting settings and scikit-learn's version), otherwise the configured runner fits them: in
this process by default (tests, the terminal chat, `ask`), in a short-lived child process for
`python -m bot run` (bot/fitstore.py), so the long-lived bot never imports scikit-learn. Either
way the model applies the weights through the same code, so the replies are the same.

The store and the runner are set once by the composition root (`configure`); this module does
no input or output of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol, TypeVar

import numpy as np

Arrays = dict[str, np.ndarray]


class Fitted(Protocol):
    """Fitted weights that can be written as named arrays and read back exactly."""

    def arrays(self) -> Arrays: ...


F = TypeVar("F", bound=Fitted)


class WeightStore(Protocol):
    def load(self, kind: str, key: str) -> Arrays | None: ...
    def save(self, kind: str, key: str, arrays: Arrays) -> None: ...


Runner = Callable[[Callable[..., Any], tuple[Any, ...]], Any]


class FitError(RuntimeError):
    """Fitting failed (the child process died or raised): the caller keeps what it has."""


def run_here(fit: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fit(*args)


_store: WeightStore | None = None
_runner: Runner = run_here


def configure(store: WeightStore | None = None, runner: Runner = run_here) -> None:
    """Set where weights are kept and where they are fitted (default: nowhere, here)."""
    global _store, _runner
    _store, _runner = store, runner


def _learner_version() -> str:
    try:
        return version("scikit-learn")
    except PackageNotFoundError:  # pragma: no cover - a broken install
        return "?"


def weights_key(kind: str, settings: str, data: bytes) -> str:
    """The store's key: what was fitted, how, by which scikit-learn, on which data."""
    h = hashlib.blake2b(digest_size=16)
    for part in (kind, settings, _learner_version()):
        h.update(part.encode())
        h.update(b"\x00")
    h.update(data)
    return h.hexdigest()


def obtain(
    kind: str,
    key: str,
    read: Callable[[Arrays], F],
    fit: Callable[..., F],
    args: tuple[Any, ...],
) -> F:
    """The weights for `key`: from the store when it has them, else fitted by the runner
    (and then kept in the store). `fit` must be a module-level function: it may be sent to a
    child process."""
    store = _store
    if store is not None:
        arrays = store.load(kind, key)
        if arrays is not None:
            return read(arrays)
    arrays = _runner(fit, args).arrays()
    if store is not None:
        store.save(kind, key, arrays)
    # read back even when fitted here: stored and fresh weights take the very same path
    return read(arrays)


def kept(kind: str, key: str, compute: Callable[[], Arrays]) -> Arrays:
    """Arrays worked out from the knowledge base (never from user text) that are slow to
    compute but not fitted: from the store when it has them for `key`, else computed here
    (never in a child) and kept in the store."""
    store = _store
    if store is not None:
        arrays = store.load(kind, key)
        if arrays is not None:
            return arrays
    arrays = compute()
    if store is not None:
        store.save(kind, key, arrays)
    return arrays


def pack_texts(texts: Iterable[str]) -> np.ndarray:
    """Strings as one UTF-8 array (exact; numpy's own str arrays drop trailing NULs).
    The strings are n-grams: they never hold a line break."""
    return np.frombuffer("\n".join(texts).encode(), dtype=np.uint8).copy()


class PackedTexts:
    """Packed strings (`pack_texts`) read a slice at a time: the triage model's 200,000
    n-grams as strings all at once were ~15 MB of a start's peak memory for a moment, when
    all it does with them is hash each one once."""

    SLICE_BYTES = 1 << 16

    def __init__(self, packed: np.ndarray, count: int) -> None:
        """Raises ValueError, as `unpack_texts` does, when `packed` holds another count."""
        found = int(np.count_nonzero(packed == ord("\n"))) + 1 if packed.size else 0
        if found != count and not (count == 1 and not packed.size):
            raise ValueError(f"expected {count} strings, found {found}")
        self._packed = packed
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        raw = np.ascontiguousarray(self._packed, dtype=np.uint8).tobytes()
        found = 0
        if self._count:
            start = 0
            while True:
                end = raw.find(b"\n", min(start + self.SLICE_BYTES, len(raw)))
                last = end < 0
                for text in raw[start : len(raw) if last else end].decode().split("\n"):
                    found += 1
                    yield text
                if last:
                    break
                start = end + 1
        if found != self._count:
            raise ValueError(f"expected {self._count} strings, found {found}")


def unpack_texts(packed: np.ndarray, count: int) -> list[str]:
    texts = bytes(packed.astype(np.uint8)).decode().split("\n") if count else []
    if len(texts) != count:
        raise ValueError(f"expected {count} strings, found {len(texts)}")
    return texts
