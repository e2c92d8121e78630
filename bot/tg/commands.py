"""Telegram command handlers. Each reads the same way: parse → call one service or query → reply.

``Commands.register`` wires every handler of the command side: the gate (bot.tg.gate), /track and
its button (bot.tg.tracking), /sensitivity (bot.tg.sensitivity) and the reading commands here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.messages import replies
from bot.messages.buttons import (
    HISTORY_DATA,
    LIST_DATA,
    Keyboard,
    ListFilter,
    history_keyboard,
    list_keyboard,
    parse_history,
    parse_list,
)
from bot.messages.export import FORMATS, export, export_filename
from bot.messages.fulldiff import DiffDocument, answer_diff
from bot.net.urls import URLError, canonical_url, parse_user_url, url_key
from bot.service.digest import DigestService
from bot.service.follow import FollowService
from bot.service.history import PageLinks
from bot.service.track import TrackService
from bot.storage.articles import Tracked
from bot.storage.models import utcnow
from bot.storage.store import Storage
from bot.tg.access import ChangeGuard
from bot.tg.channels import ChannelDesk, Target
from bot.tg.digest import DIGEST_DATA, DigestHandlers, digest_offer
from bot.tg.feeds import FeedHandlers
from bot.tg.follows import FollowHandlers
from bot.tg.gate import TAPPABLE, Gate, tapped_command
from bot.tg.keyboards import markup, turn_page
from bot.tg.presses import ArticleButtons
from bot.tg.sensitivity import SENSITIVITY_DATA, SensitivityHandlers
from bot.tg.settings import SettingsHandlers, zone
from bot.tg.tracking import TRACK_DATA, TrackHandlers
from bot.tg.updates import article_arg, register_chat, reply

log = logging.getLogger("redline.commands")


class Commands:
    def __init__(
        self,
        store: Storage,
        tracker: TrackService,
        settings: Settings,
        links: PageLinks,
        digests: DigestService,
        follower: FollowService,
        on_chat_changed: Callable[[int], None] = lambda _chat: None,
    ) -> None:
        self.store = store
        self.digests = digests
        self.settings = settings
        self.links = links  # to the web pages (bot.web), when web.public_url is set
        self.on_chat_changed = on_chat_changed  # its list or token changed: the web forgets its pages
        self.guard = ChangeGuard(settings.telegram.group_admins_only)
        self.digest_buttons = DigestHandlers(digests, self.guard)
        self.gate = Gate(settings.limits)
        self.desk = ChannelDesk(store)
        self.tracking = TrackHandlers(store, tracker, settings, self.guard, self.desk, on_chat_changed)
        self.sensitivities = SensitivityHandlers(store, self.guard, self.desk)
        self.follows = FollowHandlers(store, follower, self.guard, self.desk)
        self.feeds = FeedHandlers(store, links, self.guard, self.desk, on_chat_changed)
        self.settings_menu = SettingsHandlers(store, self.guard, self.desk)
        self.presses = ArticleButtons(store, self.guard, self.send_diff, self.send_history)

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        chats = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
        handlers = [
            ("start", self.help),
            ("help", self.help),
            ("track", self.tracking.track),
            ("untrack", self.untrack),
            ("list", self.list),
            ("history", self.history),
            ("diff", self.diff),
            ("sensitivity", self.sensitivities.sensitivity),
            ("settings", self.settings_menu.settings),
            ("timezone", self.settings_menu.timezone),
            ("export", self.export),
            ("digest", self.digest),
            ("channel", self.desk.channel),
            ("follow", self.follows.follow),
            ("unfollow", self.follows.unfollow),
            ("feed", self.feeds.feed),
        ]
        tappable = {"diff": self.diff, "history": self.history, "untrack": self.untrack}
        self.gate.known = frozenset(name for name, _ in handlers)
        self.gate.tappable = frozenset(tappable)
        app.add_handler(MessageHandler(filters.COMMAND & chats, self.gate), group=-1)
        app.add_handler(CallbackQueryHandler(self.gate.button), group=-1)
        for name, handler in handlers:
            app.add_handler(CommandHandler(name, handler, filters=chats))
        # "/diff_1_2_3": a command a tap sends whole, its arguments joined by "_".
        app.add_handler(MessageHandler(filters.Regex(TAPPABLE) & chats, self._tapped(tappable)))
        app.add_handler(MessageHandler(filters.StatusUpdate.CHAT_SHARED, self.desk.chosen))
        opml = filters.Document.FileExtension("opml") | filters.Document.MimeType("text/x-opml")
        app.add_handler(MessageHandler(opml & chats, self.follows.opml))
        app.add_handler(
            CallbackQueryHandler(self.sensitivities.sensitivity_chosen, pattern=rf"^{SENSITIVITY_DATA}")
        )
        app.add_handler(CallbackQueryHandler(self.tracking.track_chosen, pattern=rf"^{TRACK_DATA}$"))
        app.add_handler(CallbackQueryHandler(self.list_turned, pattern=rf"^{LIST_DATA}:"))
        app.add_handler(CallbackQueryHandler(self.history_turned, pattern=rf"^{HISTORY_DATA}:"))
        self.presses.register(app)
        self.settings_menu.register(app)
        app.add_handler(CallbackQueryHandler(self.digest_buttons.chosen, pattern=rf"^{DIGEST_DATA}"))
        app.add_handler(MessageHandler(filters.COMMAND & chats, self.unknown))
        app.add_handler(
            MessageHandler(
                filters.ChatType.PRIVATE & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND,
                self.tracking.plain_text,
            )
        )

    def _tapped(
        self, handlers: dict[str, Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]]
    ) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]:
        async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            parsed = tapped_command(message.text or "" if message else "")
            if parsed is None:
                return
            name, args = parsed
            context.args = args
            await handlers[name](update, context)

        return tapped

    async def _article_ref(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str], command: str
    ) -> tuple[Target, Tracked] | None:
        """Find the article named by a /list number or a URL in the chat the command acts on
        (this one, or the channel it manages); reply when there is none."""
        target = await self.desk.target(update, context)
        if target is None:
            return None
        row = await self._lookup(update, target, args, command)
        return None if row is None else (target, row)

    async def _lookup(self, update: Update, target: Target, args: list[str], command: str) -> Tracked | None:
        ref = article_arg(update.effective_message, args)
        if ref is None:
            await reply(update, target.say(replies.USAGE[command]))
            return None
        if ref.lstrip("#").isdigit():
            number = int(ref.lstrip("#"))
            row = await asyncio.to_thread(self.store.articles.lookup, target.chat_id, number=number)
            if row is None:
                await reply(update, target.say(replies.no_such_number(number)))
            return row
        try:
            key = url_key(canonical_url(parse_user_url(ref, max_chars=self.settings.limits.max_url_chars)))
        except URLError as exc:
            await reply(update, target.say(replies.bad_url(exc.args[0], command)))
            return None
        row = await asyncio.to_thread(self.store.articles.lookup, target.chat_id, url_key=key)
        if row is None:
            await reply(update, target.say(replies.NOT_TRACKED))
        return row

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await register_chat(self.store, update)
        await reply(update, replies.help_text())

    async def untrack(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.guard.may_change(update, context, "untrack"):
            return
        found = await self._article_ref(update, context, context.args or [], "untrack")
        if found is None:
            return
        target, row = found
        await asyncio.to_thread(self.store.articles.untrack, target.chat_id, row.number)
        self.on_chat_changed(target.chat_id)
        await reply(update, target.say(replies.untracked(row.number, row.article)))

    async def list(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        try:
            wanted = ListFilter(args[0].lower()) if args else ListFilter.ALL
        except ValueError:
            await reply(update, replies.USAGE["list"])
            return
        target = await self.desk.target(update, context)
        if target is None:
            return
        text, keyboard = await self._list_page(target, wanted, 1)
        await reply(update, text, reply_markup=markup(keyboard))

    async def _list_page(self, target: Target, wanted: ListFilter, page: int) -> tuple[str, Keyboard]:
        found = await asyncio.to_thread(
            self.store.articles.list_page, target.chat_id, wanted, page, replies.LIST_PAGE_SIZE
        )
        now = utcnow()
        rows = [(r.number, r.article, r.versions) for r in found.rows]
        text = replies.list_page(
            rows, now, wanted=wanted, total=found.total, page=found.page, pages=found.pages
        )
        if wanted == ListFilter.ALL:  # follows in a block of their own, above the articles
            follows = await self.follows.list_block(target.chat_id, now)
            if follows:
                text = "\n".join(follows) + (f"\n\n{text}" if rows else "")
        return target.say(text), list_keyboard(wanted, found.page, found.pages)

    async def list_turned(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """◀ ▶ under /list: the same message shows the page asked for (of the channel the
        private chat manages, if it does: asked again, the user may have lost it)."""
        query, chat = update.callback_query, update.effective_chat
        press = parse_list(query.data or "") if query is not None else None
        if query is None or chat is None or press is None:
            return
        if not await self.guard.may_press(update, context, "list"):
            return
        target = await self.desk.target(update, context)
        if target is None:
            return
        text, keyboard = await self._list_page(target, press.filter, press.page)
        await turn_page(query, text, keyboard)

    async def digest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The day's edits of the chat the command acts on, most significant first."""
        target = await self.desk.target(update, context)
        if target is None:
            return
        edits = await self.digests.day(target.chat_id, utcnow())
        text, _plain = replies.day_digest(edits)
        await reply(update, target.say(text), reply_markup=None if target.is_channel else digest_offer())

    async def history(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = await self._article_ref(update, context, context.args or [], "history")
        if found is not None:
            await self.send_history(update, *found)

    async def _history_page(self, target: Target, row: Tracked, page: int) -> tuple[str, Keyboard]:
        assert row.article.id is not None
        versions = await asyncio.to_thread(self.store.articles.versions, row.article.id)
        link = await asyncio.to_thread(self.links.article, target.chat_id, row.article.id)
        chat = await asyncio.to_thread(self.store.chats.get, target.chat_id)
        tz = zone(chat.timezone if chat else "UTC") or UTC
        text = replies.history_page(row.number, row.article, versions, page=page, tz=tz, link=link)
        pages = replies.page_count(len(versions), replies.HISTORY_PAGE_SIZE)
        return target.say(text), history_keyboard(row.article.id, min(max(page, 1), pages), pages)

    async def send_history(self, update: Update, target: Target, row: Tracked) -> None:
        """/history, /history_N and the History button: page 1, newest version first."""
        text, keyboard = await self._history_page(target, row, 1)
        await reply(update, text, reply_markup=markup(keyboard))

    async def history_turned(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat = update.callback_query, update.effective_chat
        press = parse_history(query.data or "") if query is not None else None
        if query is None or chat is None or press is None:
            return
        if not await self.guard.may_press(update, context, "history"):
            return
        target = await self.desk.target(update, context)
        if target is None:
            return
        row = await asyncio.to_thread(self.store.articles.subscribed, target.chat_id, press.article_id)
        if row is None:
            await query.answer(replies.NO_LONGER_TRACKED, show_alert=True)
            return
        text, keyboard = await self._history_page(target, row, press.page)
        await turn_page(query, text, keyboard)

    async def diff(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        found = await self._article_ref(update, context, args, "diff")
        if found is not None:
            await self.send_diff(update, found[1], args)

    async def send_diff(self, update: Update, row: Tracked, args: Sequence[str]) -> None:
        """/diff, /diff_N_A_B and the Full diff button: the same answer."""
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
        if [a.lower() for a in args] == ["follows"]:
            await self.follows.export(update, context)
            return
        fmt = args.pop().lower() if args and args[-1].lower() in FORMATS else "json"
        if len(args) > 1:
            await reply(update, replies.USAGE["export"])
            return
        found = await self._article_ref(update, context, args, "export")
        if found is None:
            return
        _target, row = found
        assert row.article.id is not None
        versions = await asyncio.to_thread(self.store.articles.versions, row.article.id)
        data = await asyncio.to_thread(export, row.article, versions, fmt)  # big: off the event loop
        limit = self.settings.limits.max_upload_bytes
        if len(data) > limit:
            chat = update.effective_chat
            log.info("export_refused chat=%s number=%s bytes=%d", chat and chat.id, row.number, len(data))
            await reply(update, replies.export_too_big(row.number, len(data), limit, fmt))
            return
        message = update.effective_message
        assert message is not None
        await message.reply_document(
            data,
            filename=export_filename(row.number, fmt),
            caption=replies.export_caption(row.number, row.article, len(versions), fmt),
        )

    async def unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Only in private chats (the gate leaves other bots' commands in groups alone)."""
        message = update.effective_message
        text = (message.text or "") if message else ""
        command = text.split()[0].split("@")[0] if text.split() else "/"
        await reply(update, replies.unknown_command(command))
