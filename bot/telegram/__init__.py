"""The Telegram edge: python-telegram-bot wiring around the core's `Responder`."""
