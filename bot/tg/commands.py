"""Telegram command handlers. Each reads the same way: parse → call the core → reply."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.core.extract import NotAnArticle
from bot.core.fingerprint import fingerprint
from bot.core.sensitivity import DEFAULT_SENSITIVITY, Sensitivity
from bot.messages import replies
from bot.messages.export import FORMATS, export, export_filename
from bot.messages.fulldiff import DiffDocument, answer_diff
from bot.net.fetch import Fetcher, FetchError
from bot.net.urls import URLError, canonical_url, parse_user_url, site_name, url_key
from bot.service.parse_thread import ParseThread
from bot.storage.articles import PageMeta, Tracked
from bot.storage.models import ArticleState, utcnow
from bot.storage.store import Storage
from bot.tg.access import AdminCache, AdminLookupFailed, decided_without_lookup

log = logging.getLogger("redline.commands")

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

_LINKS = [MessageEntity.URL, MessageEntity.TEXT_LINK]
TRACK_DATA = "track"


def first_link(message: Message | None) -> str | None:
    """The first link Telegram marked in a message or caption, typed or hidden behind text.

    Shared links often arrive as "Headline https://…" or as linked words, and in a group one
    replies /track to somebody's link rather than pasting it again.
    """
    if message is None:
        return None
    found = message.parse_entities(_LINKS) or message.parse_caption_entities(_LINKS)
    for entity in sorted(found, key=lambda e: e.offset):
        return entity.url if entity.type == MessageEntity.TEXT_LINK and entity.url else found[entity]
    return None


def article_arg(message: Message | None, args: list[str]) -> str | None:
    """What a command names: a link in it, else its first word, else a link in the message it
    replies to."""
    if message is None:
        return args[0] if args else None
    link = first_link(message)
    if link is not None:
        return link
    if args:
        return args[0]
    return first_link(message.reply_to_message)


def topic_of(message: Message | None) -> int | None:
    """The forum topic a message was written in (announcements about what it tracks go there)."""
    return message.message_thread_id if message is not None and message.is_topic_message else None


class CommandRateLimiter:
    """At most ``per_minute`` commands per chat in any 60 seconds."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[int, deque[float]] = defaultdict(deque)

    def allow(self, chat_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        window = self._seen[chat_id]
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        return True


class Commands:
    def __init__(
        self,
        store: Storage,
        fetcher: Fetcher,
        settings: Settings,
        parser: ParseThread,
        on_tracked: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.settings = settings
        self.parser = parser  # pages are parsed on the process's one parse thread
        self.on_tracked = on_tracked  # wakes the monitor: a new or woken article is due
        self.limiter = CommandRateLimiter(settings.limits.commands_per_minute)
        self.admins = AdminCache()

    # -- wiring ------------------------------------------------------------------------

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        chats = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
        app.add_handler(MessageHandler(filters.COMMAND & chats, self.gate), group=-1)
        for name, handler in [
            ("start", self.help),
            ("help", self.help),
            ("track", self.track),
            ("untrack", self.untrack),
            ("list", self.list),
            ("history", self.history),
            ("diff", self.diff),
            ("sensitivity", self.sensitivity),
            ("export", self.export),
        ]:
            app.add_handler(CommandHandler(name, handler, filters=chats))
        app.add_handler(CallbackQueryHandler(self.sensitivity_chosen, pattern=r"^sens:"))
        app.add_handler(CallbackQueryHandler(self.track_chosen, pattern=rf"^{TRACK_DATA}$"))
        app.add_handler(MessageHandler(filters.COMMAND & chats, self.unknown))
        app.add_handler(
            MessageHandler(
                filters.ChatType.PRIVATE & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND,
                self.plain_text,
            )
        )

    @staticmethod
    def bot_commands() -> list[BotCommand]:
        return [BotCommand(name, text[:256]) for name, text, _ in replies.COMMANDS]

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    async def _reply(update: Update, text: str, **kwargs: object) -> Message | None:
        message = update.effective_message
        if message is None:
            return None
        return await message.reply_text(text, **kwargs)  # type: ignore[arg-type]

    async def _register_chat(self, update: Update) -> int:
        chat = update.effective_chat
        assert chat is not None
        title = chat.title or chat.full_name or chat.username or ""
        await asyncio.to_thread(self.store.chats.ensure, chat.id, chat.type, title)
        return chat.id

    async def _article_ref(self, update: Update, args: list[str], command: str) -> Tracked | None:
        """Find the chat's article named by a /list number or a URL; reply when there is none."""
        chat_id = await self._register_chat(update)
        ref = article_arg(update.effective_message, args)
        if ref is None:
            await self._reply(update, replies.USAGE[command])
            return None
        if ref.lstrip("#").isdigit():
            number = int(ref.lstrip("#"))
            row = await asyncio.to_thread(self.store.articles.lookup, chat_id, number=number)
            if row is None:
                await self._reply(update, replies.no_such_number(number))
            return row
        try:
            key = url_key(canonical_url(parse_user_url(ref, max_chars=self.settings.limits.max_url_chars)))
        except URLError as exc:
            await self._reply(update, replies.bad_url(exc.args[0], command))
            return None
        row = await asyncio.to_thread(self.store.articles.lookup, chat_id, url_key=key)
        if row is None:
            await self._reply(update, replies.NOT_TRACKED)
        return row

    async def _may_change(self, update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> bool:
        """Whether whoever sent this may change the chat's list or settings; tells them when not.

        For a button press the presser decides, never the message the button sits under.
        """
        chat, user, query = update.effective_chat, update.effective_user, update.callback_query
        if chat is None:
            return False
        message = None if query is not None else update.effective_message
        sender = message.sender_chat.id if message is not None and message.sender_chat else None
        admins_only = self.settings.telegram.group_admins_only
        if decided_without_lookup(chat.type, chat.id, sender, admins_only=admins_only):
            return True

        async def admin_ids(chat_id: int) -> list[int]:
            return [member.user.id for member in await context.bot.get_chat_administrators(chat_id)]

        try:
            allowed = user is not None and await self.admins.is_admin(chat.id, user.id, admin_ids)
        except AdminLookupFailed as exc:
            log.warning("admin_lookup_failed chat=%s error=%s", chat.id, exc)
            denial = replies.ADMIN_LOOKUP_FAILED
        else:
            if allowed:
                return True
            log.info("change_refused chat=%s user=%s command=%s", chat.id, user and user.id, command)
            denial = replies.ADMINS_ONLY_BUTTON if query is not None else replies.admins_only(command)
        if query is not None:
            await query.answer(denial, show_alert=True)
        else:
            await self._reply(update, denial)
        return False

    # -- gate: limits that apply to every command ------------------------------------------

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        text = message.text or ""
        if len(text) > self.settings.limits.max_message_chars:
            log.info("command_refused chat=%s reason=too_long chars=%d", chat.id, len(text))
            await self._reply(update, replies.TOO_LONG)
            raise ApplicationHandlerStop
        if not self.limiter.allow(chat.id):
            log.info("command_refused chat=%s reason=rate_limited", chat.id)
            await self._reply(update, replies.RATE_LIMITED)
            raise ApplicationHandlerStop
        log.info("command chat=%s type=%s command=%s", chat.id, chat.type, text.split()[0][:40])

    # -- commands ----------------------------------------------------------------------

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._register_chat(update)
        await self._reply(update, replies.help_text())

    async def track(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._may_change(update, context, "track"):
            await self._track(update, article_arg(update.effective_message, context.args or []))

    async def _track(self, update: Update, target: str | None) -> None:
        """/track and the "Track this article" button: the same checks, fetch and replies."""
        chat_id = await self._register_chat(update)
        if target is None:
            await self._reply(update, replies.USAGE["track"])
            return
        try:
            url = canonical_url(parse_user_url(target, max_chars=self.settings.limits.max_url_chars))
        except URLError as exc:
            await self._reply(update, exc.args[0])
            return
        key = url_key(url)
        known = await asyncio.to_thread(self.store.articles.find, key)
        if known is None or known.state in (ArticleState.GONE, ArticleState.DORMANT):
            try:
                page = await self.fetcher.fetch(url)
            except FetchError as exc:
                log.info("track_failed chat=%s reason=%r", chat_id, exc.user_message)
                await self._reply(update, exc.user_message)
                return
            url, key = page.url, url_key(page.url)
            known = await asyncio.to_thread(self.store.articles.find, key)
        if known is not None and known.state not in (ArticleState.GONE, ArticleState.DORMANT):
            result = await asyncio.to_thread(
                self.store.articles.track,
                chat_id,
                url=known.url,
                url_key=key,
                site=known.site,
                title=known.title,
                content=None,
                content_hash="",
                meta=PageMeta(),
                interval=known.interval,
                thread_id=topic_of(update.effective_message),
            )
        else:
            count = await asyncio.to_thread(self.store.articles.count_subscriptions, chat_id)
            if count >= self.settings.limits.max_articles_per_chat:
                await self._reply(update, replies.too_many_articles(count))
                return
            try:
                snapshot = await self.parser.extract(page.html, page.url)
            except NotAnArticle as exc:
                await self._reply(update, exc.args[0])
                return
            printed = await self.parser.run(fingerprint, page.html)
            result = await asyncio.to_thread(
                self.store.articles.track,
                chat_id,
                url=url,
                url_key=key,
                site=site_name(url),
                title=snapshot.title,
                content=snapshot.to_dict(),
                content_hash=snapshot.content_hash,
                meta=PageMeta(page.etag, page.last_modified, page.body_hash, printed),
                interval=self.settings.monitor.interval,
                thread_id=topic_of(update.effective_message),
            )
        self.on_tracked()
        log.info(
            "tracked chat=%s article=%s number=%s already=%s",
            chat_id,
            result.article.id,
            result.number,
            result.already,
        )
        if result.already:
            await self._reply(update, replies.already_tracking(result.number, result.article))
        else:
            await self._reply(update, replies.tracking_started(result.number, result.article))

    async def untrack(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self._may_change(update, context, "untrack"):
            return
        row = await self._article_ref(update, context.args or [], "untrack")
        if row is None:
            return
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        await asyncio.to_thread(self.store.articles.untrack, chat_id, row.number)
        await self._reply(update, replies.untracked(row.number, row.article))

    async def list(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = await self._register_chat(update)
        rows = await asyncio.to_thread(self.store.articles.tracked, chat_id)
        await self._reply(
            update, replies.list_text([(r.number, r.article, r.versions) for r in rows], utcnow())
        )

    async def history(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        row = await self._article_ref(update, context.args or [], "history")
        if row is None:
            return
        assert row.article.id is not None
        versions = await asyncio.to_thread(self.store.articles.versions, row.article.id)
        await self._reply(update, replies.history_text(row.number, row.article, versions))

    async def diff(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        row = await self._article_ref(update, args, "diff")
        if row is None:
            return
        assert row.article.id is not None
        versions = await asyncio.to_thread(self.store.articles.versions, row.article.id)
        answer = await asyncio.to_thread(answer_diff, row.number, row.article, versions, args)
        message = update.effective_message
        if message is None:
            return
        if isinstance(answer, DiffDocument):
            await message.reply_document(
                answer.html.encode(), filename=answer.filename, caption=answer.caption
            )
            return
        for text in (answer,) if isinstance(answer, str) else answer:
            await message.reply_text(text)

    async def export(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = list(context.args or [])
        fmt = args.pop().lower() if args and args[-1].lower() in FORMATS else "json"
        if len(args) > 1:
            await self._reply(update, replies.USAGE["export"])
            return
        row = await self._article_ref(update, args, "export")
        if row is None:
            return
        assert row.article.id is not None
        versions = await asyncio.to_thread(self.store.articles.versions, row.article.id)
        data = export(row.article, versions, fmt)
        message = update.effective_message
        assert message is not None
        await message.reply_document(
            data,
            filename=export_filename(row.number, fmt),
            caption=replies.export_caption(row.number, row.article, len(versions), fmt),
        )

    async def sensitivity(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self._may_change(update, context, "sensitivity"):
            return
        chat_id = await self._register_chat(update)
        chat = await asyncio.to_thread(self.store.chats.get, chat_id)
        current = chat.sensitivity if chat else DEFAULT_SENSITIVITY
        buttons = [
            [InlineKeyboardButton(replies.sensitivity_button(key, current), callback_data=f"sens:{key}")]
            for key in Sensitivity
        ]
        question = replies.sensitivity_question(current)
        await self._reply(update, question, reply_markup=InlineKeyboardMarkup(buttons))

    async def sensitivity_chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None or not await self._may_change(update, context, "sensitivity"):
            return
        choice = (query.data or "").removeprefix("sens:")
        if choice not in list(Sensitivity):
            await query.answer(replies.UNKNOWN_CHOICE)
            return
        await asyncio.to_thread(self.store.chats.set_sensitivity, chat.id, choice)
        log.info("sensitivity chat=%s value=%s", chat.id, choice)
        await query.answer(replies.SAVED)
        await query.edit_message_text(replies.sensitivity_saved(choice))

    async def unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        text = (message.text or "") if message else ""
        command = text.split()[0].split("@")[0] if text.split() else "/"
        await self._reply(update, replies.unknown_command(command))

    async def plain_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A link sent or forwarded without a command: offer to track it with one tap."""
        link = first_link(update.effective_message)
        if link is None:
            await self._reply(update, replies.NO_LINK)
            return
        try:
            parse_user_url(link, max_chars=self.settings.limits.max_url_chars)
        except URLError as exc:
            await self._reply(update, exc.args[0])
            return
        button = InlineKeyboardButton(replies.TRACK_BUTTON, callback_data=TRACK_DATA)
        await self._reply(update, replies.offer_to_track(link), reply_markup=InlineKeyboardMarkup([[button]]))

    async def track_chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The "Track this article" button: /track of the link in the message it sits under."""
        query = update.callback_query
        if query is None or not await self._may_change(update, context, "track"):
            return
        await query.answer(replies.TRACK_BUTTON_PRESSED)
        offer = query.message if isinstance(query.message, Message) else None
        if offer is not None:
            with contextlib.suppress(BadRequest):  # a second press already removed it
                await offer.edit_reply_markup(None)
        await self._track(update, first_link(offer))
