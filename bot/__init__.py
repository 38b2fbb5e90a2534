"""A Telegram chatbot answering child-protection questions in Vietnamese.

The public API: build the services from the settings, then ask the core.

    from bot import build_services, load_settings
    services = build_services(load_settings("config.yaml"))
    reply = services.responder.respond("tổng đài bảo vệ trẻ em số mấy", "child")
"""

from bot.config import ConfigError, Settings, load_settings
from bot.core.knowledge import AUDIENCES, KnowledgeBase, KnowledgeError, load_knowledge
from bot.core.responder import Reply, Responder, Suggestion
from bot.services import Services, build_services, load_responder

__all__ = [
    "AUDIENCES",
    "ConfigError",
    "KnowledgeBase",
    "KnowledgeError",
    "Reply",
    "Responder",
    "Services",
    "Settings",
    "Suggestion",
    "build_services",
    "load_knowledge",
    "load_responder",
    "load_settings",
]
