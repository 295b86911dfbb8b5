"""config.yaml validation and environment handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config, normalise_database_url
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_repository_config_loads_with_all_languages() -> None:
    config = load_config(ROOT / "config.yaml", env={})
    assert config.settings.languages == ["nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"]
    assert config.database_url().endswith("/wegwijs.db")


def test_desk_chat_id_must_be_negative_and_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "languages: [en]\ndesk:\n  chat_id: 12345\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    assert str(error.value) == "Config 'desk.chat_id' must be a negative integer (the supergroup id)"


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Config 'languages' is missing, and has no default"):
        load_config(write(tmp_path, "default_language: en\n"), env={})


def test_unknown_key_is_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Config 'retention.message_days' is not a known setting"):
        load_config(write(tmp_path, "languages: [en]\nretention:\n  message_days: 3\n"), env={})


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "languages: [en]\nlimits:\n  max_message_chars: 100\n   oops: [\n")
    with pytest.raises(ConfigError, match=r"is not valid YAML at line \d"):
        load_config(path, env={})


def test_missing_file_explains_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is missing: copy config.yaml"):
        load_config(tmp_path / "nope.yaml", env={})


def test_fallback_to_unknown_language_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fallbacks mention 'fa', which is not in languages"):
        load_config(write(tmp_path, "languages: [en, ps]\nfallbacks:\n  ps: [fa]\n"), env={})


def test_wrong_type_shows_the_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Config 'retention.messages_days' .*'soon'"):
        load_config(write(tmp_path, "languages: [en]\nretention:\n  messages_days: soon\n"), env={})


def test_database_url_precedence_db_option_then_env_then_file(tmp_path: Path) -> None:
    path = write(tmp_path, "languages: [en]\ndatabase_file: data/bot.db\n")
    from_file = load_config(path, env={})
    assert from_file.database_url() == f"sqlite+aiosqlite:///{tmp_path / 'data/bot.db'}"
    from_env = load_config(path, env={"DATABASE_URL": "postgresql://u:p@127.0.0.1/w"})
    assert from_env.database_url() == "postgresql+asyncpg://u:p@127.0.0.1/w"
    assert from_env.database_url("other.db") == "sqlite+aiosqlite:///other.db"


def test_secrets_come_only_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "languages: [en]\n")
    config = load_config(path, env={"TELEGRAM_TOKEN": "123:abc"})
    assert config.env.telegram_token == "123:abc"
    with pytest.raises(ConfigError, match="not a known setting"):
        load_config(write(tmp_path, "languages: [en]\ntelegram_token: x\n"), env={})


@pytest.mark.parametrize("url", ["mysql://x", "http://example.org"])
def test_unsupported_database_url_is_explained(url: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        normalise_database_url(url)
