"""Fitted weights on disk, and fitting in a child process (issue 12; see bot.core.fitting).

`python -m bot run` keeps the learned layers' weights in `storage.cache_dir` (default: the
`fitted` folder beside the log database) and fits missing ones in a short-lived child process,
so the long-lived bot never imports scikit-learn (~110 MB) and a restart with the same knowledge
base fits nothing. The files hold only what the knowledge base already holds in public: n-grams
of its questions and triage examples, and numbers; never a user's message.

Files: `<kind>-<key>.npz` (the arrays) and `<kind>-<key>.json` (what they are), the json written
last, so a file pair is complete or ignored. A damaged or unreadable pair is fitted again.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.fitting import Arrays, FitError

logger = logging.getLogger(__name__)
KEEP_PER_KIND = 4  # the live knowledge version, a reload or two, a rollback
FIT_TIMEOUT_SECONDS = 600.0


class DiskWeights:
    """A `WeightStore` in one folder; problems are logged and mean "fit again", never a crash."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _paths(self, kind: str, key: str) -> tuple[Path, Path]:
        stem = self.directory / f"{kind}-{key}"
        return stem.with_suffix(".npz"), stem.with_suffix(".json")

    def load(self, kind: str, key: str) -> Arrays | None:
        arrays_path, meta_path = self._paths(kind, key)
        if not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            with np.load(arrays_path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            logger.warning("fitted weights %s unreadable (%s): fitting again", meta_path, exc)
            return None
        if meta.get("key") != key or sorted(meta.get("arrays", [])) != sorted(arrays):
            logger.warning("fitted weights %s do not match their description: fitting again",
                           meta_path)
            return None
        logger.info("%s weights loaded from %s", kind, arrays_path)
        return arrays

    def save(self, kind: str, key: str, arrays: Arrays) -> None:
        arrays_path, meta_path = self._paths(kind, key)
        meta = {"kind": kind, "key": key, "arrays": sorted(arrays),
                "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = arrays_path.with_name(f".{arrays_path.name}.{os.getpid()}.part")
            with open(partial, "wb") as out:
                np.savez(out, **arrays)  # type: ignore[arg-type]
            os.replace(partial, arrays_path)
            partial = meta_path.with_name(f".{meta_path.name}.{os.getpid()}.part")
            partial.write_text(json.dumps(meta, indent=1), encoding="utf-8")
            os.replace(partial, meta_path)
        except OSError as exc:
            logger.warning("could not keep fitted weights in %s (%s): the next start fits again",
                           self.directory, exc)
            return
        logger.info("%s weights kept in %s", kind, arrays_path)
        self._prune(kind)

    def _prune(self, kind: str) -> None:
        metas = sorted(self.directory.glob(f"{kind}-*.json"), key=lambda p: p.stat().st_mtime)
        for old in metas[:-KEEP_PER_KIND]:
            for path in (old.with_suffix(".npz"), old):
                path.unlink(missing_ok=True)


class _Fitted:
    """Weights read back from the child's file: what `obtain` asks a runner's result for."""

    def __init__(self, arrays: Arrays) -> None:
        self._arrays = arrays

    def arrays(self) -> Arrays:
        return self._arrays


def fit_in_child(fit: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Run `fit(*args)` in a fresh Python process (`python -m bot.fitstore`) that exits when
    done: scikit-learn is imported there and its memory goes back to the system with it.
    A plain subprocess, not multiprocessing: nothing of this process's `__main__` is re-run.
    The weights come back as an .npz file, read once: no pickled copy of them in this process
    (20 MB less at the start-up peak)."""
    started = time.monotonic()
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])]
    ))
    with tempfile.TemporaryDirectory(prefix="bot-fit-") as folder:
        result = Path(folder) / "fitted.npz"
        try:
            done = subprocess.run(
                [sys.executable, "-m", "bot.fitstore", str(result)],
                input=pickle.dumps((fit, args)),
                capture_output=True, env=env, timeout=FIT_TIMEOUT_SECONDS, check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise FitError(f"{fit.__name__} could not run in a child process: {exc!r}") from exc
        if done.returncode != 0 or not result.is_file():
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise FitError(f"{fit.__name__} failed in a child process ({done.returncode}): "
                           + " | ".join(tail))
        with np.load(result, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    logger.info("%s ran in a child process in %.1f s", fit.__name__, time.monotonic() - started)
    return _Fitted(arrays)


def _child(result: Path) -> None:
    """The child's side: (fit, args) pickled on stdin, the fitted weights written to `result`
    (.npz, no pickles)."""
    fit, args = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - from our own parent
    sys.stdout = sys.stderr  # anything the fit prints goes to the log, not to the parent
    arrays = fit(*args).arrays()
    partial = result.with_name(f".{result.name}.part")
    with open(partial, "wb") as out:
        np.savez(out, **arrays)
    os.replace(partial, result)


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
