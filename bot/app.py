"""Wires the Telegram Application, the scheduler, the database and the fetcher together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from bot.config import Settings
from bot.messages import notices
from bot.net.fetch import Fetcher, FetchPolicy, Resolver
from bot.ops.metrics import MetricsServer, serve
from bot.service.check import Checker
from bot.service.digest import DigestService
from bot.service.follow import FollowService
from bot.service.history import History, PageLinks
from bot.service.pages import PageReader
from bot.service.parse_thread import ParseThread
from bot.service.scheduler import Scheduler
from bot.service.sites import SiteLoad
from bot.service.track import TrackService
from bot.storage.engine import make_engine
from bot.storage.models import utcnow
from bot.storage.retention import Retention
from bot.storage.stats import CheckCounter
from bot.storage.store import Storage
from bot.tg.allowlist import Allowlist
from bot.tg.commands import Commands
from bot.tg.membership import ChatEvents
from bot.tg.menus import publish_menus
from bot.tg.sender import Sender
from bot.web.server import WebServer

log = logging.getLogger("redline.app")

RATE_LIMIT_RETRIES = 2


@dataclass
class Redline:
    """Everything one running bot holds; kept in ``application.bot_data['redline']``.

    Its lifecycle is ``start`` → ``stop`` → ``close``: PTB's ``post_init``/``post_stop``/
    ``post_shutdown`` hooks call them for ``run``, and ``serve_until`` for ``worker``.
    """

    settings: Settings
    store: Storage
    fetcher: Fetcher
    parser: ParseThread
    scheduler: Scheduler
    sender: Sender
    commands: Commands
    counter: CheckCounter
    retention: Retention
    follower: FollowService
    metrics: MetricsServer | None = None
    web: WebServer | None = None  # history pages and feeds, when web.listen is set (`redline run`)
    checks: asyncio.Task[None] | None = None  # the scheduler's pipeline
    feeds: asyncio.Task[None] | None = None  # the feed schedule (/follow)

    async def start(self, bot: Bot) -> None:
        await publish_menus(bot)
        if self.settings.metrics.listen:
            self.metrics = serve(self.settings.metrics.listen, self.store.engine, self.counter)
        if self.web is not None:
            await self.web.start()
        self.sender.start()
        self.checks = asyncio.create_task(self.scheduler.run(), name="checks")
        self.feeds = asyncio.create_task(self.follower.run(), name="feeds")
        log.info("started bot=%s", bot.username)

    async def stop_checks(self) -> None:
        """Stop the pipeline (it gives back what it held) before the sender and the database."""
        for task in (self.feeds, self.checks):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.feeds = self.checks = None
        self.parser.close()

    async def stop(self) -> None:
        """The messages in flight finish while the bot can still send (shutdown closes it)."""
        await self.stop_checks()
        await self.sender.stop()

    async def close(self) -> None:
        await self.stop()  # when nothing called stop
        if self.metrics is not None:
            self.metrics.stop()
        if self.web is not None:
            await self.web.stop()
        await asyncio.to_thread(self.counter.flush, self.store.engine)
        await self.fetcher.aclose()
        self.store.engine.dispose()
        log.info("stopped")


def build_application(
    settings: Settings,
    *,
    resolver: Resolver | None = None,
    stop_signals: bool = False,
    serve_web: bool = True,
) -> Application:  # type: ignore[type-arg]
    """The bot, ready for ``run_polling``/``run_webhook``, ``serve_until`` or ``async with app:
    app.start()``. With ``stop_signals``, SIGTERM and SIGINT stop the sender between two
    messages at once, then PTB shuts down as it does for its own stop signals. The web pages
    are served when ``web.listen`` is set, unless ``serve_web`` is false (``redline worker``)."""
    t = settings.telegram
    app = (
        ApplicationBuilder()
        .token(t.token)
        .base_url(t.base_url)
        .base_file_url(t.base_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Retries: a 429 holds every request of this process until Telegram's retry_after has
        # passed, then the same request goes again (PTB's default is to raise at once).
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .concurrent_updates(True)
        .read_timeout(30)
        .write_timeout(30)
        .get_updates_read_timeout(t.poll_timeout + 10)
        .post_init(_post_init_with_signals if stop_signals else _post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    store = Storage(make_engine(settings.database.url))
    store.upgrade_schema()
    fetcher = Fetcher(FetchPolicy.from_settings(settings.monitor), resolver=resolver)
    counter = CheckCounter()
    parser = ParseThread()
    pages = PageReader(fetcher, parser)
    sender = Sender(
        store,
        app.bot,
        concurrency=t.send_concurrency,
        lease=t.send_lease,
        coalesce_minutes=t.coalesce_minutes,
        tick=settings.monitor.tick,
    )
    web = WebServer(History(store.web), settings.web) if settings.web.listen and serve_web else None
    links = PageLinks(store.chats, settings.web)
    checker = Checker(
        store,
        pages,
        settings.monitor,
        t.max_announcement_chars,
        on_check=counter.add,
        links=links,
        on_version=web.version_stored if web is not None else None,
        write_behind=True,  # the scheduler flushes it before each claim and on stop
    )
    # A check stored announcements: send them now.
    # One count of fetches per site for the checks and the feeds: together within per_site_limit.
    sites = SiteLoad(settings.monitor.per_site_limit)
    scheduler = Scheduler(store.queue, checker, settings.monitor, on_announce=sender.wake, sites=sites)
    tracker = TrackService(store.articles, pages, settings, on_tracked=scheduler.wake)
    follower = FollowService(store, pages, tracker, settings, on_notice=sender.wake, sites=sites)
    redline = Redline(
        settings=settings,
        store=store,
        fetcher=fetcher,
        parser=parser,
        scheduler=scheduler,
        sender=sender,
        commands=Commands(
            store,
            tracker,
            settings,
            links,
            DigestService(store),
            follower,
            on_chat_changed=web.chat_changed if web is not None else _nothing,
        ),
        follower=follower,
        counter=counter,
        retention=Retention(store.engine, settings.database, settings.limits.follow_max_days),
        web=web,
    )
    app.bot_data["redline"] = redline
    ChatEvents(store, on_resumed=sender.wake).register(app)
    Allowlist(t.allowed_users, t.allowed_chats, redline.commands.gate.addressed).register(app)
    redline.commands.register(app)
    app.add_error_handler(_on_error)
    assert app.job_queue is not None, "install python-telegram-bot[job-queue]"
    tick = settings.monitor.tick
    # Jitter: processes sharing one database (run + workers) would otherwise tick in lockstep.
    # Checks need no tick: the scheduler's pipeline (started by Redline.start) runs them when
    # due, and the sender runs on its own.
    job_kwargs = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None, "jitter": tick}
    # Housekeeping, infrequent and in short transactions: check counts, then retention.
    flush, prune = settings.metrics.flush_interval, settings.database.prune_interval
    app.job_queue.run_repeating(_flush_tick, interval=flush, name="counts", job_kwargs=job_kwargs)
    app.job_queue.run_repeating(
        _prune_tick, interval=prune, first=min(prune, 60), name="prune", job_kwargs=job_kwargs
    )
    # Daily digests: one indexed read per tick; a due one is queued in the outbox for the sender.
    app.job_queue.run_repeating(_digest_tick, interval=tick, name="digests", job_kwargs=job_kwargs)
    return app


def _nothing(_chat_id: int) -> None:
    """No web pages served here: nothing to forget."""


def _on_stop_signals(on_stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_stop)


def request_stop(app: Application) -> None:  # type: ignore[type-arg]
    """Ask the sender to stop between two messages (shutdown then waits for it)."""
    _app_redline(app).sender.request_stop()


async def serve_until(app: Application, stop: asyncio.Event | None = None) -> None:  # type: ignore[type-arg]
    """Checks and sends without answering commands (``redline worker``): the hooks
    ``run_polling`` calls, in its order, around ``app.start()``, with no updater. Runs until
    ``stop`` is set, or until SIGTERM/SIGINT (``docker stop``, Ctrl-C) when it is None."""
    if stop is None:
        stop = asyncio.Event()

        def on_signal() -> None:  # ends it cleanly, between two messages
            request_stop(app)
            stop.set()

        _on_stop_signals(on_signal)
    async with app:  # initialize … shutdown
        await _post_init(app)
        await app.start()
        try:
            await stop.wait()
        finally:
            await app.stop()
            await _post_stop(app)
    await _post_shutdown(app)


def _app_redline(app: Application) -> Redline:  # type: ignore[type-arg]
    return app.bot_data["redline"]  # type: ignore[no-any-return]


def _redline(context: ContextTypes.DEFAULT_TYPE) -> Redline:
    return _app_redline(context.application)


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    await _app_redline(app).start(app.bot)


async def _post_init_with_signals(app: Application) -> None:  # type: ignore[type-arg]
    def stop() -> None:
        request_stop(app)
        raise SystemExit  # what PTB's own handler does: run_polling then stops and shuts down

    await _post_init(app)
    _on_stop_signals(stop)


async def _post_stop(app: Application) -> None:  # type: ignore[type-arg]
    await _app_redline(app).stop()


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    await _app_redline(app).close()


async def _flush_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    redline = _redline(context)
    await asyncio.to_thread(redline.counter.flush, redline.store.engine)


async def _prune_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    await _redline(context).retention.run()


async def _digest_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    redline = _redline(context)
    if await redline.commands.digests.send_due(utcnow()):
        redline.sender.wake()


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure on one line; tell the user something went wrong instead of silence."""
    log.error("handler_error error=%r", context.error, exc_info=context.error)
    from telegram import Update

    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(notices.SOMETHING_WENT_WRONG)
        except Exception:  # the chat may be the problem; nothing more to do
            log.warning("error_reply_failed")
