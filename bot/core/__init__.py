"""The pure core: text in, reply out. Nothing here imports Telegram, SQLite or the terminal."""

from bot.core.knowledge import AUDIENCES, KnowledgeBase, KnowledgeError, load_knowledge
from bot.core.responder import Reply, Responder, Suggestion

__all__ = [
    "AUDIENCES",
    "KnowledgeBase",
    "KnowledgeError",
    "Reply",
    "Responder",
    "Suggestion",
    "load_knowledge",
]
