"""The config loader: defaults, file values, environment overrides, and errors naming lines."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"  # shaped like a @BotFather token


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_config_runs_on_defaults():
    settings = load_settings(None, env={})
    assert settings.telegram.mode == "polling"
    assert settings.telegram.base_url is None
    assert (settings.knowledge.path / "entries").is_dir()
    assert settings.admins == []
    assert settings.telegram_token is None


def test_file_values_and_fixed_key_names(tmp_path):
    path = write(
        tmp_path,
        "telegram:\n  base_url: http://127.0.0.1:9/bot\n"
        "knowledge:\n  path: kb\n"
        "storage:\n  database: log.sqlite3\n"
        "privacy:\n  retention_days: 30\n"
        "admins: [42, 43]\n",
    )
    settings = load_settings(path, env={})
    assert settings.telegram.base_url == "http://127.0.0.1:9/bot"
    assert settings.knowledge.path == tmp_path / "kb"  # relative to the config file
    assert settings.storage.database == tmp_path / "log.sqlite3"
    assert settings.privacy.retention_days == 30
    assert settings.admins == [42, 43]


def test_environment_supplies_secrets_and_overrides_base_url(tmp_path):
    path = write(tmp_path, "telegram:\n  base_url: http://example.invalid/bot\n")
    env = {
        "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "BOT_HASH_SECRET": "s3cret-" + "x" * 32,
    }
    settings = load_settings(path, env=env)
    assert settings.telegram.base_url == "http://127.0.0.1:8081/bot"
    assert settings.telegram_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)
    assert TOKEN not in settings.model_dump_json()
    settings.require_telegram_secrets()


def test_missing_secrets_are_named():
    settings = load_settings(None, env={"TELEGRAM_BOT_TOKEN": TOKEN})
    with pytest.raises(ConfigError) as info:
        settings.require_telegram_secrets()
    assert "BOT_HASH_SECRET" in str(info.value)
    assert "TELEGRAM_BOT_TOKEN" not in str(info.value)


def test_unknown_key_names_key_and_line(tmp_path):
    path = write(tmp_path, "telegram:\n  mode: polling\n  bse_url: http://x/bot\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert len(info.value.issues) == 1
    assert info.value.issues[0].startswith(f"{path}:3: telegram.bse_url: tên khoá lạ")


def test_wrong_type_names_key_and_line(tmp_path):
    path = write(tmp_path, "privacy:\n  retention_days: forever\nadmins: [1, x]\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    issues = info.value.issues
    assert any(i.startswith(f"{path}:2: privacy.retention_days:") for i in issues)
    assert any(i.startswith(f"{path}:3: admins.1:") for i in issues)


def test_secret_in_file_is_refused(tmp_path):
    path = write(tmp_path, "logging:\n  level: INFO\ntelegram_token: 123:abc\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert f"{path}:3: telegram_token" in str(info.value)


def test_yaml_syntax_error_names_line(tmp_path):
    path = write(tmp_path, "telegram:\n  mode: polling\n   base_url: [\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert str(info.value).startswith(f"{path}:3:")


def test_thresholds_must_be_ordered(tmp_path):
    path = write(tmp_path, "matching:\n  high_threshold: 40\n  low_threshold: 60\n")
    with pytest.raises(ConfigError, match="low_threshold"):
        load_settings(path, env={})


def test_example_config_is_valid():
    example = Path(__file__).resolve().parent.parent / "config.example.yaml"
    settings = load_settings(example, env={})
    assert settings.knowledge.path.name == "knowledge"


def test_example_config_documents_the_real_defaults():
    """Whoever copies the example gets the behaviour the bot was measured with."""
    example = Path(__file__).resolve().parent.parent / "config.example.yaml"
    from_example = load_settings(example, env={})
    defaults = load_settings(None, env={})
    assert from_example.matching == defaults.matching
    assert from_example.telegram == defaults.telegram
    assert from_example.privacy == defaults.privacy
    assert from_example.storage.queue_size == defaults.storage.queue_size


@pytest.mark.parametrize("token", ["x", "123:abc", "abc:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"])
def test_a_token_not_shaped_like_telegrams_is_refused_at_start(token):
    env = {"TELEGRAM_BOT_TOKEN": token, "BOT_HASH_SECRET": "s" * 32}
    settings = load_settings(None, env=env)
    with pytest.raises(ConfigError) as info:
        settings.require_telegram_secrets()
    assert "TELEGRAM_BOT_TOKEN không giống token Telegram" in str(info.value)
    assert token not in str(info.value)


def test_a_short_hash_secret_is_refused_with_the_fix():
    """A short secret can be brute-forced from one's own row, and then every user's id."""
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_HASH_SECRET": "ab"}
    settings = load_settings(None, env=env)
    with pytest.raises(ConfigError) as info:
        settings.require_telegram_secrets()
    assert "BOT_HASH_SECRET" in str(info.value) and "32" in str(info.value)
    assert "openssl rand -hex 32" in str(info.value)


def test_a_missing_config_file_is_named_plainly(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "khong-co.yaml", env={})
    assert "không có tệp cấu hình này" in str(info.value)
    assert "Errno" not in str(info.value)
