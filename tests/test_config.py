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


@pytest.mark.parametrize(("desk", "message"), [
    ("office_hours:\n    weekly: {monday: ['09:00-12:00']}", "Config 'desk.office_hours.weekly' has 'monday', but weekdays are written mon, tue"),
    ("office_hours:\n    weekly: {mon: ['9-12']}", "Config 'desk.office_hours.weekly' has '9-12' for mon, but opening hours are written like '09:00-12:30'"),
    ("office_hours:\n    weekly: {mon: ['17:00-09:00']}", "Config 'desk.office_hours.weekly' has '17:00-09:00' for mon"),
    ("office_hours:\n    time_zone: Europe/Gent", "Config 'desk.office_hours.time_zone' 'Europe/Gent' is not a time zone name"),
    ("counsellors: [{name: Amal, languages: [xx]}]", "Config 'config' desk mentions the language 'xx', which is not in languages"),
    ("counsellors: [{name: Amal}, {name: amal}]", "Config 'desk' counsellors: two counsellors have the same name"),
    ("counsellors: [{name: 'Amal B'}]", "Config 'desk.counsellors.0.name'"),
])
def test_desk_settings_mistakes_are_named(tmp_path: Path, desk: str, message: str) -> None:
    path = write(tmp_path, f"languages: [en, ar]\ndesk:\n  {desk}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    assert str(error.value).startswith(message)


def test_a_date_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "languages: [en]\ndesk:\n  office_hours:\n    holidays: [2026-02-30]\n")
    with pytest.raises(ConfigError, match=r"has a value YAML cannot read \(day is out of range for month\); check the dates"):
        load_config(path, env={})


def test_repository_desk_has_counsellors_hours_and_holidays() -> None:
    desk = load_config(ROOT / "config.yaml", env={}).settings.desk
    assert [c.name for c in desk.counsellors] == ["Amal", "Lotte", "Olena"]
    assert desk.office_hours.time_zone == "Europe/Brussels" and desk.office_hours.weekly["mon"] == ["09:00-12:30", "13:30-17:00"]
    assert desk.counsellor("amal") is desk.counsellors[0] and desk.counsellor("nobody") is None


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
