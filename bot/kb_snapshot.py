"""The last good knowledge base, kept as a validated snapshot the bot can start from.

"The bot never goes down" must hold when a staff member saves a broken file and the bot then
restarts: every successful load copies `knowledge/` to a snapshot next to the log database;
a failed load at start falls back to that snapshot (validated again on load) and says so.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from bot.core.knowledge import KnowledgeBase, KnowledgeError, load_knowledge

logger = logging.getLogger(__name__)


def snapshot_dir(log_database: Path) -> Path:
    return Path(log_database).parent / "knowledge.last-good"


def save_snapshot(knowledge: Path, target: Path) -> None:
    """Replace `target` with a copy of `knowledge` (copied aside first, then swapped in)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".kb-", dir=target.parent))
        shutil.copytree(knowledge, staging / "kb")
        old = target.with_name(target.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        (staging / "kb").rename(target)
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        logger.warning("could not save the knowledge snapshot: %s", exc)


def load_or_snapshot(knowledge: Path, snapshot: Path) -> tuple[KnowledgeBase, list[str]]:
    """The knowledge base from `knowledge`, or from the last good snapshot when it is broken.

    Returns the base and the errors that made the snapshot necessary (empty when the files
    loaded). Raises KnowledgeError when both are unusable.
    """
    try:
        kb = load_knowledge(knowledge)
    except KnowledgeError as exc:
        if not snapshot.is_dir():
            raise
        kb = load_knowledge(snapshot)  # validated again; raises if the snapshot is broken too
        logger.error(
            "KNOWLEDGE FILES ARE BROKEN (%d problems); serving the last good knowledge base "
            "from %s until they are fixed:\n%s", len(exc.issues), snapshot, "\n".join(exc.issues),
        )
        return kb, exc.issues
    save_snapshot(Path(knowledge), snapshot)
    return kb, []
