"""The ``redline`` command: ``run``, ``worker``, ``check URL``, ``diff OLD.html NEW.html``,
``migrate``, ``stats``, ``chats``, ``export --article URL`` and ``backup PATH``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.config import ConfigError, Settings, load_settings
from bot.ops.logs import setup_logging
from bot.ops.metrics import MetricsError
from bot.storage.engine import DatabaseError
from bot.web.server import WebError

if TYPE_CHECKING:
    from bot.storage.store import Storage


class CLIError(Exception):
    """Printed as one line ``redline: error: …`` with exit status 2."""


class StartupFailed(Exception):
    """Telegram could not be reached at start-up: one line, exit status 1 (a restart may help)."""


TOKEN_REFUSED = (
    "Telegram refused the token (401 Unauthorized): it was revoked or mistyped. Get the current "
    "one from @BotFather (/mybots → API Token) and set REDLINE_TELEGRAM_TOKEN"
)


def _database_opens(settings: Settings) -> None:
    """A database that cannot be opened is said first (a local mistake), before any network."""
    from sqlalchemy.exc import OperationalError

    from bot.storage.engine import make_engine
    from bot.storage.schema import cannot_open

    engine = make_engine(settings.database.url)
    try:
        with engine.connect() as conn:  # only a connection: nothing is read, written or logged
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        raise cannot_open(engine, exc) from None
    finally:
        engine.dispose()


def _reach_telegram(settings: Settings) -> None:
    """Before the bot is built: a network blip at boot is retried, a refused token ends it."""
    from bot.tg.startup import TelegramUnreachable, TokenRejected, reach_telegram

    t = settings.telegram
    try:
        asyncio.run(reach_telegram(t.token, t.base_url, t.startup_attempts))
    except TokenRejected:
        raise CLIError(TOKEN_REFUSED) from None
    except TelegramUnreachable as exc:
        raise StartupFailed(str(exc)) from None


def _settings(path: str | None) -> Settings:
    if path is None and Path("config.toml").is_file():
        path = "config.toml"
    return load_settings(path)


def _need_token(settings: Settings) -> None:
    if not settings.telegram.token.strip():
        raise CLIError(
            "no Telegram token: set REDLINE_TELEGRAM_TOKEN or [telegram] token in the config "
            "(get one from @BotFather)"
        )


def cmd_run(args: argparse.Namespace) -> None:
    from telegram import Update

    from bot.app import build_application

    settings = _settings(args.config)
    _need_token(settings)
    setup_logging(settings.logging.level, settings.telegram.token)
    _database_opens(settings)
    _reach_telegram(settings)
    app = build_application(settings, stop_signals=True)
    t = settings.telegram
    if t.webhook_url:
        # Serve at the URL's path: a reverse proxy forwards https://host/PATH to listen:port/PATH.
        app.run_webhook(
            listen=t.webhook_listen,
            port=t.webhook_port,
            url_path=urlsplit(t.webhook_url).path.lstrip("/"),
            webhook_url=t.webhook_url,
            secret_token=t.webhook_secret or None,
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=t.startup_attempts,
        )
    else:
        app.run_polling(
            allowed_updates=Update.ALL_TYPES, timeout=t.poll_timeout, bootstrap_retries=t.startup_attempts
        )


def cmd_worker(args: argparse.Namespace) -> None:
    """Checks and sends without answering commands: a second process beside ``run``."""
    from bot.app import build_application, serve_until

    settings = _settings(args.config)
    _need_token(settings)
    setup_logging(settings.logging.level, settings.telegram.token)
    app = build_application(settings, serve_web=False)  # `redline run` serves the pages
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_until(app))


def _read_html(source: str, settings: Settings) -> tuple[str, str]:
    """HTML and URL of a page given as a local file or a web address."""
    path = Path(source)
    if path.is_file():
        try:
            return path.read_bytes().decode("utf-8", errors="replace"), path.resolve().as_uri()
        except OSError as exc:
            raise CLIError(f"cannot read {source}: {exc.strerror}") from None
    if "://" not in source and path.suffix.lower() in {".html", ".htm"}:
        raise CLIError(f"no such file: {source}")
    from bot.net.fetch import Fetcher, FetchError, FetchPolicy
    from bot.net.urls import URLError, canonical_url, parse_user_url

    async def get() -> tuple[str, str]:
        async with Fetcher(FetchPolicy.from_settings(settings.monitor)) as fetcher:
            page = await fetcher.fetch(canonical_url(parse_user_url(source)))
            return page.html, page.url

    try:
        return asyncio.run(get())
    except URLError as exc:
        raise CLIError(str(exc.args[0])) from None
    except FetchError as exc:
        raise CLIError(exc.user_message) from None


def cmd_check(args: argparse.Namespace) -> None:
    from bot.core.extract import NotAnArticle, extract

    settings = _settings(args.config)
    setup_logging("WARNING")
    html, url = _read_html(args.url, settings)
    try:
        snapshot = extract(html, url)
    except NotAnArticle as exc:
        raise CLIError(str(exc.args[0])) from None
    print(snapshot.title)
    print()
    for i, paragraph in enumerate(snapshot.paragraphs, 1):
        print(f"¶{i} {paragraph}")


def cmd_diff(args: argparse.Namespace) -> None:
    from bot.core.diff import diff_snapshots
    from bot.core.extract import NotAnArticle, extract, page_url
    from bot.messages.announcement import MessageContext, render_announcement, render_plain
    from bot.net.urls import site_name

    settings = _settings(args.config)
    setup_logging("WARNING")
    old_html, old_url = _read_html(args.old, settings)
    new_html, _ = _read_html(args.new, settings)
    url = args.url or (old_url if old_url.startswith("http") else page_url(old_html) or old_url)
    try:
        old = extract(old_html, url)
        new = extract(new_html, url, carrier=old.carrier)  # the headline where OLD showed it
    except NotAnArticle as exc:
        raise CLIError(str(exc.args[0])) from None
    changes = diff_snapshots(old, new)
    if not changes:
        print("No edit: the two pages have the same headline and text (noise ignored).")
        return
    site = site_name(url) if url.startswith("http") else Path(args.old).resolve().parent.name
    ctx = MessageContext(
        site=site,
        url=url,
        title=new.title,
        old_version=1,
        new_version=2,
        article_number=1,
        paragraphs=len(old.paragraphs),
    )
    render = render_plain if args.plain else render_announcement
    print(render(changes, ctx, settings.telegram.max_announcement_chars))


def cmd_migrate(args: argparse.Namespace) -> None:
    """Upgrade the schema alone (``run`` and ``worker`` do it too), or print the SQL for a DBA."""
    from bot.storage.engine import make_engine
    from bot.storage.schema import database_revision, head_revision, upgrade_schema, upgrade_sql

    settings = _settings(args.config)
    setup_logging("WARNING")
    url = settings.database.url
    if args.sql:
        start = args.start
        if start is None:
            engine = make_engine(url)
            try:
                start = database_revision(engine)
            except Exception as exc:  # no database to read: the DBA gets the whole script
                print(
                    f"-- cannot read the database ({type(exc).__name__}); SQL from an empty one", flush=True
                )
            finally:
                engine.dispose()
        elif start == "base":
            start = None
        if start == head_revision():
            print(f"-- the database is at the latest revision ({start}): nothing to run")
            return
        sys.stdout.write(upgrade_sql(url, start))
        return
    engine = make_engine(url)
    try:
        done = upgrade_schema(engine)
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if done.before == done.after:
        print(f"{where}: already at the latest revision {done.after}")
    else:
        stamped = f" (recognised a database made before migrations as {done.before})" if done.stamped else ""
        print(f"{where}: upgraded from {done.before or 'an empty database'} to {done.after}{stamped}")


def _store(settings: Settings) -> Storage:
    """The bot's database as it is: never created or upgraded by a command that only reads."""
    from sqlalchemy.exc import OperationalError

    from bot.storage.backup import sqlite_path
    from bot.storage.engine import make_engine
    from bot.storage.schema import cannot_open, database_revision, head_revision
    from bot.storage.store import Storage

    path = sqlite_path(settings.database.url)
    if path is not None and not path.is_file():
        raise CLIError(f"no database at {path} (check database.url)")
    store = Storage(make_engine(settings.database.url))
    try:
        at, head = database_revision(store.engine), head_revision()
    except OperationalError as exc:
        raise cannot_open(store.engine, exc) from None
    if at != head:
        raise CLIError(
            f"the database is at schema revision {at or 'none'}, not {head}: run redline migrate first"
        )
    return store


def cmd_stats(args: argparse.Namespace) -> None:
    from bot.storage.stats import collect, format_stats

    settings = _settings(args.config)
    setup_logging("WARNING")
    print(format_stats(collect(_store(settings).engine)))


def cmd_chats(args: argparse.Namespace) -> None:
    """For the operator: every chat, what it tracks and who tracked it."""
    from bot.messages.operator import chats_report

    settings = _settings(args.config)
    setup_logging("WARNING")
    print(chats_report(_store(settings).chats.overview()))


def cmd_export(args: argparse.Namespace) -> None:
    from bot.messages.export import export
    from bot.net.urls import URLError, canonical_url, parse_user_url, url_key

    settings = _settings(args.config)
    setup_logging("WARNING")
    try:
        key = url_key(canonical_url(parse_user_url(args.article)))
    except URLError as exc:
        raise CLIError(str(exc.args[0])) from None
    store = _store(settings)
    article = store.articles.find(key)
    if article is None or article.id is None:
        raise CLIError(f"no article with the URL {args.article} in the database")
    versions = store.articles.versions(article.id)
    data = export(article, versions, args.format)
    if args.output is None:
        sys.stdout.buffer.write(data)
        return
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        raise CLIError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"Wrote {len(versions)} versions of {article.url} to {args.output} ({len(data)} bytes).")


def cmd_backup(args: argparse.Namespace) -> None:
    from bot.storage.backup import BackupError, backup_sqlite, pg_dump_hint, restore_hint, sqlite_path

    settings = _settings(args.config)
    setup_logging("WARNING")
    try:
        source = sqlite_path(settings.database.url)
        if source is None:
            raise CLIError(pg_dump_hint(settings.database.url))
        print(restore_hint(backup_sqlite(source, Path(args.path))))
    except BackupError as exc:
        raise CLIError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="redline", description="Announce edits to news articles in Telegram.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, func, text in [
        ("run", cmd_run, "run the bot (long polling, or a webhook when configured) and the scheduler"),
        ("worker", cmd_worker, "run checks and announcements only, beside a 'run' process"),
    ]:
        sp = sub.add_parser(name, help=text)
        sp.add_argument("--config", metavar="PATH", help="TOML config (default: ./config.toml if present)")
        sp.set_defaults(func=func)
    sp = sub.add_parser("check", help="fetch and extract once; print the headline and paragraphs")
    sp.add_argument("url", metavar="URL", help="an article URL or a saved HTML file")
    sp.add_argument("--config", metavar="PATH")
    sp.set_defaults(func=cmd_check)
    sp = sub.add_parser("diff", help="print the message an edit from OLD to NEW would produce")
    sp.add_argument("old", metavar="OLD.html")
    sp.add_argument("new", metavar="NEW.html")
    sp.add_argument("--url", help="the article's URL, for the link and site name")
    sp.add_argument("--plain", action="store_true", help="print without Telegram HTML")
    sp.add_argument("--config", metavar="PATH")
    sp.set_defaults(func=cmd_diff)
    sp = sub.add_parser("migrate", help="bring the database schema up to date (run and worker do it too)")
    sp.add_argument("--sql", action="store_true", help="print the SQL instead of running it (for a DBA)")
    sp.add_argument(
        "--from",
        dest="start",
        metavar="REV",
        help="with --sql: the revision the database is at ('base' for an empty one; default: ask it)",
    )
    sp.add_argument("--config", metavar="PATH")
    sp.set_defaults(func=cmd_migrate)
    sp = sub.add_parser("stats", help="articles, checks in the last hour, backlog, deliveries, chats, size")
    sp.add_argument("--config", metavar="PATH")
    sp.set_defaults(func=cmd_stats)
    sp = sub.add_parser("chats", help="every chat, the articles it tracks and who tracked each")
    sp.add_argument("--config", metavar="PATH")
    sp.set_defaults(func=cmd_chats)
    sp = sub.add_parser("export", help="an article's history: every version (JSON) or change (CSV)")
    sp.add_argument("--article", metavar="URL", required=True, help="the article's URL")
    sp.add_argument("--format", choices=["json", "csv"], default="json")
    sp.add_argument("--output", metavar="PATH", help="write to PATH instead of standard output")
    sp.add_argument("--config", metavar="PATH")
    sp.set_defaults(func=cmd_export)
    sp = sub.add_parser("backup", help="a consistent copy of the live SQLite database (PostgreSQL: pg_dump)")
    sp.add_argument("path", metavar="PATH", help="a new file, or a directory to put a dated copy in")
    sp.add_argument("--config", metavar="PATH")
    sp.set_defaults(func=cmd_backup)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.func(args)
        # Done and shut down: skip the interpreter's last full garbage collection, which walks
        # the whole heap (most of a second of a SIGTERM'd bot's exit) to free nothing needed.
        gc.freeze()
    except (CLIError, ConfigError, DatabaseError, MetricsError, WebError) as exc:
        print(f"redline: error: {exc}", file=sys.stderr)
        return 2
    except StartupFailed as exc:
        print(f"redline: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `redline check … | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
