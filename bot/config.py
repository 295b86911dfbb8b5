"""config.yaml and environment: read once, validated, passed down."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError

DEFAULT_CONFIG = Path("config.yaml")
LANGUAGE_CODE = r"^[a-z]{2,3}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retention(_Strict):
    messages_days: int = Field(90, ge=1, le=3650)
    inactive_user_days: int = Field(365, ge=1, le=3650)


class Limits(_Strict):
    max_message_chars: int = Field(2000, ge=100, le=100_000)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_RANGE = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$"


class Counsellor(_Strict):
    """A counsellor on the desk. Women see ``name`` only (a first name)."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[^\s:/]+$")
    telegram_id: int | None = None   # her or his Telegram user id, to recognise them in the desk group
    languages: list[str] = Field(default_factory=list)


class OfficeHours(_Strict):
    """When the desk answers: opening ranges per weekday ("09:00-12:00"), closed on holidays."""

    time_zone: str = "Europe/Brussels"
    weekly: dict[str, list[str]] = Field(default_factory=dict)
    holidays: list[date] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone name such as Europe/Brussels") from None
        return value

    @field_validator("weekly")
    @classmethod
    def _ranges(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, ranges in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"has '{day}', but weekdays are written {', '.join(WEEKDAYS)}")
            for hours in ranges:
                if not isinstance(hours, str) or not re.match(HOURS_RANGE, hours) or hours[:5] >= hours[6:]:
                    raise ValueError(f"has '{hours}' for {day}, but opening hours are written like '09:00-12:30' (start before end)")
        return value


class Desk(_Strict):
    chat_id: int | None = None
    language: str = "en"                 # the language the desk's own messages are written in
    counsellors: list[Counsellor] = Field(default_factory=list)
    office_hours: OfficeHours = OfficeHours()
    urgent_reminder_minutes: int = Field(10, ge=1, le=1440)  # an urgent case nobody took is posted again
    # /forget: "delete" deletes her case topics with every message in them (her words too; needs the bot's
    # right to delete messages, else they are closed); "close" closes them and replaces the card, so that
    # counsellors keep their notes (her relayed messages stay in the topic)
    forget_topics: Literal["delete", "close"] = "delete"

    @field_validator("chat_id")
    @classmethod
    def _supergroup(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError("must be a negative integer (the supergroup id)")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Desk:
        names = [counsellor.name.casefold() for counsellor in self.counsellors]
        if len(set(names)) != len(names):
            raise ValueError("counsellors: two counsellors have the same name; add an initial (e.g. 'SaraB')")
        return self

    def counsellor(self, name: str) -> Counsellor | None:
        return next((c for c in self.counsellors if c.name.casefold() == name.casefold()), None)


class WhatsApp(_Strict):
    """The approved message template that invites her to write again once her 24-hour window closed (a counsellor
    answered later): its name in WhatsApp Manager, and its language code there for each of our languages."""

    reengage_template: str | None = None
    template_languages: dict[str, str] = Field(default_factory=dict)  # e.g. {en: en, ar: ar, uk: uk}; others: default_language's

    def template_language(self, language: str, default: str) -> str:
        return self.template_languages.get(language) or self.template_languages.get(default) or default


class Paths(_Strict):
    knowledge: Path = Path("knowledge")
    locales: Path = Path("locales")
    flows: Path = Path("flows")
    cache: Path = Path(".cache")  # embeddings of the content, keyed by content hash


class Settings(_Strict):
    languages: list[str] = Field(min_length=1)
    default_language: str = "en"
    fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    emergency_numbers: list[str] = Field(default_factory=lambda: ["112"])
    database_file: Path = Path("wegwijs.db")
    retention: Retention = Retention()
    limits: Limits = Limits()
    desk: Desk = Desk()
    whatsapp: WhatsApp = WhatsApp()
    paths: Paths = Paths()

    @field_validator("languages")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not isinstance(code, str) or not code.isalpha() or not 2 <= len(code) <= 3 or code != code.lower():
                raise ValueError(f"has '{code}', but languages are lower-case ISO 639-1 codes such as 'nl' or 'ar'")
        if len(set(value)) != len(value):
            raise ValueError("lists a language twice")
        return value

    @model_validator(mode="after")
    def _known_languages(self) -> Settings:
        if self.default_language not in self.languages:
            raise ValueError(f"default_language '{self.default_language}' must be one of languages")
        for lang, chain in self.fallbacks.items():
            for code in [lang, *chain]:
                if code not in self.languages:
                    raise ValueError(f"fallbacks mention '{code}', which is not in languages")
        for code in [self.desk.language, *(code for c in self.desk.counsellors for code in c.languages)]:
            if code not in self.languages:
                raise ValueError(f"desk mentions the language '{code}', which is not in languages")
        return self


WHATSAPP_API_URL = "https://graph.facebook.com/v21.0"  # the Graph API, its version pinned


@dataclass(frozen=True)
class Environment:
    """Secrets and deployment settings, read from the process environment in one place."""

    database_url: str | None = None
    telegram_token: str | None = None
    telegram_api_url: str | None = None
    telegram_webhook_secret: str | None = None
    whatsapp_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_url: str = WHATSAPP_API_URL
    rasa_url: str | None = None    # Rasa's HTTP API (`rasa run --enable-api`), e.g. http://127.0.0.1:5005
    rasa_token: str | None = None  # its --auth-token

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Environment:
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            telegram_token=env.get("TELEGRAM_TOKEN") or None,
            telegram_api_url=env.get("TELEGRAM_API_URL") or None,
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            whatsapp_token=env.get("WHATSAPP_TOKEN") or None,
            whatsapp_app_secret=env.get("WHATSAPP_APP_SECRET") or None,
            whatsapp_verify_token=env.get("WHATSAPP_VERIFY_TOKEN") or None,
            whatsapp_phone_number_id=env.get("WHATSAPP_PHONE_NUMBER_ID") or None,
            whatsapp_api_url=(env.get("WHATSAPP_API_URL") or WHATSAPP_API_URL).rstrip("/"),
            rasa_url=(env.get("RASA_URL") or "").rstrip("/") or None,
            rasa_token=env.get("RASA_TOKEN") or None,
        )

    def whatsapp_missing(self) -> list[str]:
        """The WhatsApp variables `wegwijs serve` needs besides WHATSAPP_TOKEN that are not set."""
        values = {"WHATSAPP_APP_SECRET": self.whatsapp_app_secret, "WHATSAPP_VERIFY_TOKEN": self.whatsapp_verify_token,
                  "WHATSAPP_PHONE_NUMBER_ID": self.whatsapp_phone_number_id}
        return [name for name, value in values.items() if not value]


@dataclass(frozen=True)
class Config:
    settings: Settings
    env: Environment
    root: Path

    def path(self, relative: Path) -> Path:
        return relative if relative.is_absolute() else self.root / relative

    @property
    def knowledge_dir(self) -> Path:
        return self.path(self.settings.paths.knowledge)

    @property
    def locales_dir(self) -> Path:
        return self.path(self.settings.paths.locales)

    def database_url(self, db_file: str | Path | None = None) -> str:
        """--db wins, then DATABASE_URL, then the SQLite file named in config.yaml."""
        if db_file is not None:
            return sqlite_url(Path(db_file))
        if self.env.database_url:
            return normalise_database_url(self.env.database_url)
        return sqlite_url(self.path(self.settings.database_file))


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// forms and pick the async drivers."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:///")):
        return url
    raise ConfigError("DATABASE_URL", "must start with postgresql:// or sqlite:/// (e.g. postgresql://user:pass@127.0.0.1/wegwijs)")


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate config.yaml; every problem becomes a ConfigError naming the key."""
    env = os.environ if env is None else env
    path = Path(path or env.get("WEGWIJS_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "is missing: copy config.yaml from the repository or pass --config PATH") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(str(path), f"is not valid YAML{where}: {getattr(exc, 'problem', exc)}; check indentation and quotes") from None
    except ValueError as exc:  # e.g. a date that does not exist (2026-02-30): YAML reads dates itself
        raise ConfigError(str(path), f"has a value YAML cannot read ({exc}); check the dates (YYYY-MM-DD)") from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "must be a mapping of keys to values (key: value), not a list or a single value")
    return Config(settings=_validate(raw), env=Environment.from_mapping(env), root=path.resolve().parent)


def _validate(raw: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "config"
        raise ConfigError(key, _explain(error)) from None


def _explain(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is missing, and has no default: add it to config.yaml"
    if kind == "extra_forbidden":
        return "is not a known setting: check its spelling or remove it"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{message} (got {error.get('input')!r})" if kind != "value_error" else message
