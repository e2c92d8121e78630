"""Shared fixtures: databases (SQLite always, PostgreSQL when its binaries are installed)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings, load_settings, with_overrides
from bot.storage.engine import make_engine
from bot.storage.store import Storage
from tests.fakes.postgres import PostgresServer, find_bindir
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.stories import fast_bot_env

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test whose HTTP traffic (the bot's or PTB's) would leave 127.0.0.0/8."""
    real = httpcore.AnyIOBackend.connect_tcp

    async def connect(self: httpcore.AnyIOBackend, host: str, port: int, **kwargs: Any) -> Any:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        assert address is not None and address in LOOPBACK, f"test tried to connect to {host}:{port}"
        return await real(self, host, port, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect)


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """A CLI command run in-process (bot.ops.cli) replaces the root handler with one on the
    test's captured stderr, token filter included; put the root logger back after each test,
    so a later test in the same worker neither writes to a closed stream nor sees its records
    rewritten by that filter."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed (.ci/run installs them)")
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


_DB_COUNTER = iter(range(1_000_000))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'redline.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"t{next(_DB_COUNTER)}")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Storage]:
    """A fresh SQLite database only, for tests about the sender rather than the database."""
    s = Storage(make_engine(f"sqlite:///{tmp_path / 'redline.db'}"))
    s.upgrade_schema()
    yield s
    s.engine.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    s = Storage(make_engine(database_url))
    s.upgrade_schema()
    yield s
    s.engine.dispose()


# -- end-to-end: the real Application against a fake Bot API and a local article server ---------


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, with Telegram's flood limits; a test fails on any HTML Telegram
    would refuse unless it said it expects that (``expect_parse_refusals``)."""
    async with FakeTelegram() as fake:
        yield fake
        refused = fake.unexpected_refusals()
        assert not refused, f"Telegram would refuse the HTML of: {refused}"


@pytest.fixture
async def articles() -> AsyncIterator[ArticleServer]:
    async with ArticleServer() as server:
        yield server


def e2e_settings(telegram: FakeTelegram, db_path: Path, **monitor: object) -> Settings:
    """Settings for a bot that checks every second and talks to the fake Bot API: the same
    as the process tests give through the environment."""
    env = {**fast_bot_env(telegram), "REDLINE_DATABASE_URL": f"sqlite:///{db_path}"}
    return with_overrides(load_settings(None, env=env), monitor=monitor)


@dataclass
class RunningBots:
    """Starts and stops real bots; a test may restart one on the same database."""

    telegram: FakeTelegram
    db_path: Path
    running: list[Application] = field(default_factory=list)  # type: ignore[type-arg]

    async def start(self, settings: Settings | None = None, **monitor: object) -> Application:  # type: ignore[type-arg]
        settings = settings or e2e_settings(self.telegram, self.db_path, **monitor)
        app = build_application(settings)
        await app.initialize()
        if app.post_init is not None:  # as run_polling does
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        self.running.append(app)
        return app

    async def stop(self, app: Application) -> None:  # type: ignore[type-arg]
        self.running.remove(app)
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
            if app.post_stop is not None:  # as run_polling does
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)

    async def stop_all(self) -> None:
        for app in list(self.running):
            await self.stop(app)


@pytest.fixture
async def bots(telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[RunningBots]:
    runner = RunningBots(telegram, tmp_path / "redline.db")
    try:
        yield runner
    finally:
        await asyncio.wait_for(runner.stop_all(), 30)
