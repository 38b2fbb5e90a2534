"""Settings: built-in defaults, an optional YAML file, and secrets from the environment only.

The key names `telegram.base_url`, `knowledge.path`, `storage.database`, `privacy.retention_days`
and `admins` are a fixed contract with other tools. Secrets (`TELEGRAM_BOT_TOKEN`,
`BOT_HASH_SECRET`) are never read from the file, so a config file can be shared safely.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from bot.core.counsel import HOURS_PATTERN
from bot.core.matching import DEFAULT_HIGH, DEFAULT_LOW, Thresholds
from bot.core.yamlfile import IssuesError, YamlSyntaxError, format_validation_error, load_located
from bot.privacy import MIN_SECRET_LENGTH

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The shape of a token from @BotFather: the bot's numeric id, a colon, a long secret.
TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")


class ConfigError(IssuesError):
    """A config problem, each issue naming the file, line and key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


WEBHOOK_SECRET_REQUIRED = (
    "environment variable TELEGRAM_WEBHOOK_SECRET (or telegram.webhook.secret_token) is required"
    " in webhook mode: without it anyone who knows the webhook address can send the bot forged"
    " updates (make one with: openssl rand -hex 32)"
)


class WebhookSettings(_Section):
    listen: str = "0.0.0.0"
    port: int = Field(8443, ge=1, le=65535)
    url: str | None = None
    secret_token: str | None = None


class RateLimitSettings(_Section):
    overall_per_second: float = Field(30, gt=0)
    per_chat_per_second: float = Field(1, gt=0)
    max_retries: int = Field(3, ge=0)


class HttpSettings(_Section):
    """python-telegram-bot's own HTTPXRequest settings; unset (null) keeps the library default."""

    connect_timeout: float | None = Field(None, gt=0)
    read_timeout: float | None = Field(None, gt=0)
    write_timeout: float | None = Field(None, gt=0)
    pool_timeout: float | None = Field(None, gt=0)
    connection_pool_size: int | None = Field(None, ge=1)
    proxy: str | None = None
    http_version: Literal["1.1", "2"] | None = None


class TelegramSettings(_Section):
    base_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    concurrency: int = Field(32, ge=1, le=1024)
    http: HttpSettings = HttpSettings()
    webhook: WebhookSettings = WebhookSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()


class KnowledgeSettings(_Section):
    path: Path = PROJECT_ROOT / "knowledge"


class MatchingSettings(_Section):
    high_threshold: float = Field(DEFAULT_HIGH, ge=0, le=100)
    low_threshold: float = Field(DEFAULT_LOW, ge=0, le=100)

    @model_validator(mode="after")
    def _low_below_high(self) -> MatchingSettings:
        if self.low_threshold > self.high_threshold:
            raise ValueError("low_threshold không được lớn hơn high_threshold")
        return self

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(high=self.high_threshold, low=self.low_threshold)


class StorageSettings(_Section):
    # Under the project, not the current folder: a chat started elsewhere writes no ./data/.
    database: Path = PROJECT_ROOT / "data" / "interactions.sqlite3"
    queue_size: int = Field(10_000, ge=10)
    # Fitted weights of the learned layers (bot/fitstore.py); None: `fitted` beside the database.
    cache_dir: Path | None = None

    @property
    def fitted_dir(self) -> Path:
        return self.cache_dir or self.database.parent / "fitted"


class PrivacySettings(_Section):
    retention_days: int = Field(90, ge=1)


class AlertSettings(_Section):
    chat_id: int | None = None


class CounsellorSettings(_Section):
    """The anonymous line to staff (/gapnguoi): a forum supergroup of trained staff."""

    chat_id: int | None = None  # the staff forum supergroup; None: the line is off
    hours: str = Field("07:30-21:30", pattern=HOURS_PATTERN)  # Vietnam time
    first_reply_minutes: float = Field(10, gt=0)  # then the user is told to call 111


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(_Section):
    """Everything the bot can be configured with; every field has a working default."""

    telegram: TelegramSettings = TelegramSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    matching: MatchingSettings = MatchingSettings()
    storage: StorageSettings = StorageSettings()
    privacy: PrivacySettings = PrivacySettings()
    alerts: AlertSettings = AlertSettings()
    counsellors: CounsellorSettings = CounsellorSettings()
    admins: list[int] = Field(default_factory=list)
    logging: LoggingSettings = LoggingSettings()
    # Secrets: from the environment only (see load_settings); excluded from any dump.
    telegram_token: SecretStr | None = Field(None, exclude=True, repr=False)
    hash_secret: SecretStr | None = Field(None, exclude=True, repr=False)

    def require_telegram_secrets(self) -> None:
        """Telegram mode needs both secrets; say plainly which one is missing."""
        missing = [
            name
            for name, value in (
                ("TELEGRAM_BOT_TOKEN", self.telegram_token),
                ("BOT_HASH_SECRET", self.hash_secret),
            )
            if value is None or not value.get_secret_value()
        ]
        problems = [
            f"cần đặt biến môi trường {name} để chạy trên Telegram (xem README.md, "
            f"phần Run it on Telegram)" for name in missing
        ]
        token = self.telegram_token.get_secret_value().strip() if self.telegram_token else ""
        if token and not TOKEN_SHAPE.fullmatch(token):
            problems.append(
                "TELEGRAM_BOT_TOKEN không giống token Telegram (dạng 123456789:ABC..., số, dấu "
                "hai chấm, rồi ít nhất 30 chữ): chép lại nguyên token mà @BotFather đưa"
            )
        secret = self.hash_secret.get_secret_value() if self.hash_secret else ""
        if secret and len(secret) < MIN_SECRET_LENGTH:
            # A short secret is found by brute force from one's own row, then every id with it.
            problems.append(
                f"BOT_HASH_SECRET chỉ có {len(secret)} ký tự, cần ít nhất {MIN_SECRET_LENGTH} "
                f"(tạo một chuỗi bằng lệnh: openssl rand -hex 32)"
            )
        if self.telegram.mode == "webhook" and not self.telegram.webhook.secret_token:
            problems.append(WEBHOOK_SECRET_REQUIRED)
        if problems:
            raise ConfigError(problems)


_SECRET_KEYS = {"telegram_token", "hash_secret"}


def load_settings(path: Path | str | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read `path` (or use defaults), then apply the environment; raise ConfigError on problems."""
    env = dict(os.environ) if env is None else env
    data: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError([f"{path}:1: (tệp): không có tệp cấu hình này: kiểm tra đường dẫn "
                               f"sau --config (mẫu: cp config.example.yaml config.yaml)"])
        try:
            doc = load_located(path)
        except YamlSyntaxError as exc:
            raise ConfigError([exc.issue]) from exc
        if doc.data is None:
            doc.data = {}
        if not isinstance(doc.data, dict):
            raise ConfigError([f"{path}:1: (tệp): tệp cấu hình phải là các dòng `khoá: giá trị` "
                               f"(xem config.example.yaml)"])
        for key in _SECRET_KEYS & doc.data.keys():
            raise ConfigError(
                [f"{path}:{doc.line((key,))}: {key}: không ghi bí mật vào tệp cấu hình: đặt nó "
                 f"bằng biến môi trường (TELEGRAM_BOT_TOKEN, BOT_HASH_SECRET) và xoá dòng này"]
            )
        try:
            Settings.model_validate(doc.data)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(doc, exc)) from exc
        data = doc.data
        # Relative paths in a config file are relative to the file's folder.
        base = path.resolve().parent
        for section, key in (("knowledge", "path"), ("storage", "database"),
                             ("storage", "cache_dir")):
            value = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
            if value is not None and not Path(value).is_absolute():
                data[section][key] = str(base / value)
    if env.get("TELEGRAM_BASE_URL"):
        data.setdefault("telegram", {})["base_url"] = env["TELEGRAM_BASE_URL"]
    if env.get("TELEGRAM_BOT_TOKEN"):
        data["telegram_token"] = env["TELEGRAM_BOT_TOKEN"]
    if env.get("BOT_HASH_SECRET"):
        data["hash_secret"] = env["BOT_HASH_SECRET"]
    if env.get("TELEGRAM_WEBHOOK_SECRET"):
        data.setdefault("telegram", {}).setdefault("webhook", {})["secret_token"] = env[
            "TELEGRAM_WEBHOOK_SECRET"
        ]
    return Settings.model_validate(data)
