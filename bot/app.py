"""Wires the Telegram Application, the scheduler, the database and the fetcher together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from bot.config import Settings
from bot.messages import notices
from bot.net.fetch import Fetcher, FetchPolicy, Resolver
from bot.ops.metrics import MetricsServer, serve
from bot.service.monitor import Monitor
from bot.service.parse_thread import ParseThread
from bot.storage.engine import make_engine
from bot.storage.retention import Retention
from bot.storage.stats import CheckCounter
from bot.storage.store import Storage
from bot.tg.commands import Commands
from bot.tg.membership import ChatEvents
from bot.tg.sender import Sender

log = logging.getLogger("redline.app")

RATE_LIMIT_RETRIES = 2


@dataclass
class Redline:
    """Everything one running bot holds; kept in ``application.bot_data['redline']``."""

    settings: Settings
    store: Storage
    fetcher: Fetcher
    monitor: Monitor
    commands: Commands
    counter: CheckCounter
    retention: Retention
    parser: ParseThread
    sender: Sender | None = None
    metrics: MetricsServer | None = None
    checks: asyncio.Task[None] | None = None  # the monitor's pipeline

    async def stop_checks(self) -> None:
        """Stop the pipeline (it gives back what it held) before the sender and the database."""
        if self.checks is not None:
            self.checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.checks
            self.checks = None
        self.parser.close()


def build_application(settings: Settings, *, resolver: Resolver | None = None) -> Application:  # type: ignore[type-arg]
    """The bot, ready for ``run_polling``/``run_webhook`` or ``async with app: app.start()``."""
    store = Storage(make_engine(settings.database.url))
    store.upgrade_schema()
    fetcher = Fetcher(FetchPolicy.from_settings(settings.monitor), resolver=resolver)
    counter = CheckCounter()
    parser = ParseThread()
    budget = settings.telegram.max_announcement_chars
    monitor = Monitor(store, fetcher, settings.monitor, parser, budget, on_check=counter.add)
    redline = Redline(
        settings=settings,
        store=store,
        fetcher=fetcher,
        monitor=monitor,
        commands=Commands(store, fetcher, settings, parser, on_tracked=monitor.wake),
        counter=counter,
        retention=Retention(store.engine, settings.database),
        parser=parser,
    )
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
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["redline"] = redline
    redline.sender = Sender(
        store,
        app.bot,
        concurrency=t.send_concurrency,
        lease=t.send_lease,
        coalesce_minutes=t.coalesce_minutes,
        tick=settings.monitor.tick,
    )
    monitor.on_announce = redline.sender.wake  # a check stored announcements: send them now
    ChatEvents(store, redline.sender).register(app)
    redline.commands.register(app)
    app.add_error_handler(_on_error)
    assert app.job_queue is not None, "install python-telegram-bot[job-queue]"
    tick = settings.monitor.tick
    # Jitter: processes sharing one database (run + workers) would otherwise tick in lockstep.
    # Checks need no tick: the monitor's pipeline (started in _post_init) runs them when due,
    # and the sender runs on its own.
    job_kwargs = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None, "jitter": tick}
    # Housekeeping, infrequent and in short transactions: check counts, then retention.
    flush, prune = settings.metrics.flush_interval, settings.database.prune_interval
    app.job_queue.run_repeating(_flush_tick, interval=flush, name="counts", job_kwargs=job_kwargs)
    app.job_queue.run_repeating(
        _prune_tick, interval=prune, first=min(prune, 60), name="prune", job_kwargs=job_kwargs
    )
    return app


def stop_on_signals(app: Application) -> None:  # type: ignore[type-arg]
    """For ``run_polling``/``run_webhook``: on SIGTERM or SIGINT the sender stops between two
    messages at once, then PTB shuts down as it does for its own stop signals."""
    inner = app.post_init

    def stop() -> None:
        request_stop(app)
        raise SystemExit  # what PTB's own handler does: run_polling then stops and shuts down

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        if inner is not None:
            await inner(app)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)

    app.post_init = post_init


def request_stop(app: Application) -> None:  # type: ignore[type-arg]
    """Ask the sender to stop between two messages (shutdown then waits for it)."""
    redline: Redline = app.bot_data["redline"]
    if redline.sender is not None:
        redline.sender.request_stop()


def _redline(context: ContextTypes.DEFAULT_TYPE) -> Redline:
    return context.application.bot_data["redline"]  # type: ignore[no-any-return]


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    redline: Redline = app.bot_data["redline"]
    await app.bot.set_my_commands(Commands.bot_commands())
    if redline.settings.metrics.listen:
        redline.metrics = serve(redline.settings.metrics.listen, redline.store.engine, redline.counter)
    if redline.sender is not None:
        redline.sender.start()
    redline.checks = asyncio.create_task(redline.monitor.run(), name="checks")
    log.info("started bot=%s", app.bot.username)


async def _post_stop(app: Application) -> None:  # type: ignore[type-arg]
    """The messages in flight finish while the bot can still send (shutdown closes it)."""
    redline: Redline = app.bot_data["redline"]
    await redline.stop_checks()
    if redline.sender is not None:
        await redline.sender.stop()


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    redline: Redline = app.bot_data["redline"]
    await _post_stop(app)  # when nothing called post_stop
    if redline.metrics is not None:
        redline.metrics.stop()
    await asyncio.to_thread(redline.counter.flush, redline.store.engine)
    await redline.fetcher.aclose()
    redline.store.engine.dispose()
    log.info("stopped")


async def _flush_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    redline = _redline(context)
    await asyncio.to_thread(redline.counter.flush, redline.store.engine)


async def _prune_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    await _redline(context).retention.run()


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure on one line; tell the user something went wrong instead of silence."""
    log.error("handler_error error=%r", context.error, exc_info=context.error)
    from telegram import Update

    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(notices.SOMETHING_WENT_WRONG)
        except Exception:  # the chat may be the problem; nothing more to do
            log.warning("error_reply_failed")
