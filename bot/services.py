"""The composition root: builds the knowledge base, the responder and the interaction log from
the settings, for whichever edge runs (Telegram, the terminal chat, `ask`).

Edges receive a `Services` and build nothing of their own, so every edge runs the very same
core path on the very same configuration.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bot.config import Settings
from bot.core import fitting
from bot.core.knowledge import load_knowledge
from bot.core.responder import Responder
from bot.fitstore import DiskWeights, fit_in_child
from bot.kb_snapshot import load_or_snapshot, save_snapshot, snapshot_dir
from bot.store import InteractionLog


def keep_fitted_weights(settings: Settings, *, fit_in_a_child: bool) -> None:
    """Keep the learned layers' weights in `storage.cache_dir`; `fit_in_a_child`: fit missing
    ones in a short-lived child process, so this process never imports scikit-learn (the
    long-lived Telegram bot). Without this call, weights are fitted here and kept nowhere."""
    fitting.configure(
        DiskWeights(settings.storage.fitted_dir),
        fit_in_child if fit_in_a_child else fitting.run_here,
    )


def load_responder(settings: Settings, *, keep_snapshot: bool = False) -> Responder:
    """Load `knowledge.path` and build the core; raises KnowledgeError (nothing half-built).
    `keep_snapshot`: a knowledge base that loaded becomes the last good snapshot."""
    kb = load_knowledge(settings.knowledge.path)
    if keep_snapshot:
        save_snapshot(Path(settings.knowledge.path), snapshot_dir(settings.storage.database))
    return _ready(Responder(kb, settings.matching.thresholds))


def _ready(responder: Responder) -> Responder:
    """Build what the core makes on first use now, so no user's first message waits for it."""
    _ = responder.redactor
    return responder


def load_responder_or_snapshot(settings: Settings) -> tuple[Responder, list[str]]:
    """The core from `knowledge.path`, or from the last good snapshot when the files are broken
    (the bot never goes down); the second value lists the problems that made it necessary."""
    kb, problems = load_or_snapshot(
        Path(settings.knowledge.path), snapshot_dir(settings.storage.database)
    )
    return _ready(Responder(kb, settings.matching.thresholds)), problems


def build_log(settings: Settings, secret: bytes) -> InteractionLog:
    """The interaction log; `secret` keys the one-way user hashes (see bot.privacy)."""
    return InteractionLog(settings.storage.database, secret, queue_size=settings.storage.queue_size)


@dataclass
class Services:
    """What an edge needs: the settings, the core, and the log (None: nothing is recorded).
    `kb_problems`: why the core was built from the last good snapshot (empty: it was not)."""

    settings: Settings
    responder: Responder
    log: InteractionLog | None
    kb_problems: list[str] = field(default_factory=list)

    def reload(self) -> Responder:
        """Re-read the knowledge; on KnowledgeError the current responder stays in place."""
        self.responder = load_responder(self.settings)
        return self.responder


def build_services(
    settings: Settings,
    *,
    responder: Responder | None = None,
    log: Literal["telegram", "session", "none"] = "none",
) -> Services:
    """`log`: "telegram" (keyed by BOT_HASH_SECRET, so a user's rows can be found for /xoa),
    "session" (a random per-run key: rows of this run cannot be linked to anyone) or "none".
    `responder` reuses an already built core (tests share one). The Telegram edge, a service
    that must not go down, starts from the last good knowledge snapshot when the files are
    broken; the terminal and `ask` report the problems instead."""
    problems: list[str] = []
    if responder is None and log == "telegram":
        responder, problems = load_responder_or_snapshot(settings)
    responder = responder or load_responder(settings)
    interaction_log: InteractionLog | None = None
    if log == "telegram":
        settings.require_telegram_secrets()
        assert settings.hash_secret is not None
        interaction_log = build_log(settings, settings.hash_secret.get_secret_value().encode())
    elif log == "session":
        interaction_log = build_log(settings, secrets.token_bytes(32))
    elif log != "none":
        raise ValueError(f"unknown log kind {log!r}")
    return Services(settings, responder, interaction_log, problems)
