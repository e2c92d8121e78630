"""Database tables.

An article is stored once however many chats track it; a chat's view of it is a
``Subscription`` with a per-chat number that stays stable when other articles are untracked.
Announcements go through an outbox (``Delivery``) written in the same transaction as the
``Version`` they announce, so a crash between "detected" and "sent" loses nothing.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, String, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from bot.core.sensitivity import DEFAULT_SENSITIVITY
from bot.core.states import ArticleState


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_web_token() -> str:
    """A chat's secret for its web pages and feed: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one sender until its lease runs out (a crash: taken back)
    SENT = "sent"
    FAILED = "failed"  # given up (message refused twice), or dropped while the chat was paused


class DeliveryKind(StrEnum):
    EDIT = "edit"  # a new version was stored
    GONE = "gone"  # the article disappeared (404/410)
    FAILING = "failing"  # the article failed several checks in a row
    MOVED = "moved"  # the publisher moved the article to a new URL (a new slug, a redirect)
    DIGEST = "digest"  # a chat that came back: the articles that changed while it was away
    FEED_FAILING = "feed_failing"  # a followed source failed several fetches in a row (no article)
    FOLLOW_FULL = "follow_full"  # a follow has new articles the chat's cap leaves out (no article)


class Chat(SQLModel, table=True):
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    type: str = "private"
    title: str = ""
    sensitivity: str = DEFAULT_SENSITIVITY
    # Paused: the bot was removed or blocked, or Telegram refuses to deliver here. Nothing is
    # sent or fetched for a paused chat; ``paused_at`` is when it stopped hearing from us, kept
    # after a resume until something reaches it (a digest that fails keeps the absence whole).
    # The column keeps its first name (``blocked``): renaming it would need a migration.
    paused: bool = Field(default=False, sa_column=Column("blocked", Boolean, nullable=False))
    paused_at: datetime | None = None
    # The newest message id this bot has seen in the chat (its own or an update's), so an
    # announcement is edited in place only while nothing came after it.
    last_message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # A private chat whose user manages a channel from here (/channel): the channel's id, on
    # which /track, /list, /untrack and /sensitivity act until /channel off. None: this chat.
    managing: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The secret in the chat's web addresses (history pages, its Atom feed); /feed revoke
    # replaces it, and every address with the old one answers 404 from then on.
    web_token: str | None = Field(default_factory=new_web_token, unique=True, index=True)
    # /settings: announcements without sound (Telegram's disable_notification), and the IANA
    # time zone /history shows times in.
    quiet: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    timezone: str = Field(default="UTC", sa_column=Column(String, nullable=False, server_default="UTC"))
    # The daily digest (/digest's button): minutes after midnight UTC it is sent at (None: off)
    # and when the next one is due; the digest job queues it in the outbox and moves this on.
    digest_minute: int | None = None
    digest_next_at: datetime | None = Field(default=None, index=True)
    # With the daily digest on: articles brought by follows are not announced one by one, only
    # listed in the digest (a busy feed does not flood the chat). No effect while it is off.
    digest_only: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    created_at: datetime = Field(default_factory=utcnow)


class Article(SQLModel, table=True):
    # "Due articles in due order" is read on every claim: one index serves it.
    __table_args__ = (Index("ix_article_due", "state", "next_check_at"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str  # canonical URL after redirects, used to fetch
    url_key: str = Field(unique=True, index=True)  # identity: scheme- and slash-insensitive
    site: str = ""
    title: str = ""
    state: str = Field(default=ArticleState.ACTIVE, index=True)
    interval: int = 300  # current adaptive check interval, seconds
    next_check_at: datetime = Field(default_factory=utcnow)
    last_checked_at: datetime | None = None
    last_changed_at: datetime | None = None
    # When /track last woke the article from dormancy: it stays awake stop_after_days from then.
    woken_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    # bot.core.fingerprint of the page last extracted: unchanged means the extraction is too.
    fingerprint: str | None = None
    # Where the page shows its display headline (Snapshot.carrier: "h1", "h2.headline", "meta"),
    # chosen at /track and followed since; None for articles tracked before it was recorded.
    headline_carrier: str | None = None
    # The key of the URL the page names itself by (bot.net.urls.article_url: a trusted canonical
    # link, else where it is served), as last read; a new one is the publisher moving the article
    # ("URL changed", announced once). None: not read since it was recorded (adopted quietly).
    canonical_key: str | None = None
    failures: int = 0  # consecutive failed checks
    failure_reason: str = ""
    # A sudden loss of most of the text must persist this many checks before it is announced.
    shrink_hash: str | None = None
    shrink_count: int = 0
    # Two headlines the publisher alternates between (an A/B test): flips between them are quiet.
    ab_titles: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Set when the last chat untracks it, cleared when one tracks it again: retention deletes
    # an article (and its versions) nobody has tracked for database.keep_untracked_days.
    untracked_since: datetime | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Version(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    number: int
    title: str
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # Snapshot.to_dict()
    content_hash: str
    summary: str = ""  # "headline changed, 1 paragraph edited"
    created_at: datetime = Field(default_factory=utcnow)


class Subscription(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("chat_id", "article_id"),
        UniqueConstraint("chat_id", "number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    article_id: int = Field(foreign_key="article.id", index=True)
    number: int  # the chat's stable /list number
    # The forum topic the article was tracked in; None is the chat itself (or General).
    thread_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The Telegram user who tracked it (None: tracked before owners were kept, or by a channel
    # post): the per-user cap counts these, and `redline chats` names them.
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True, nullable=True))
    # Watchwords (bot.core.watchwords): only edits whose changed words hold one are announced
    # to this chat; None: every edit.
    watchwords: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Brought by a follow (/follow): released quietly at ``expires_at``. None: the chat's own
    # /track, kept until /untrack (tracking a followed article by hand clears both).
    # (No foreign key: adding one would rebuild the table on SQLite; unfollow deletes these.)
    follow_id: int | None = Field(default=None, index=True)
    expires_at: datetime | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Feed(SQLModel, table=True):
    """A followed source, fetched once per ``monitor.follow_interval`` however many chats follow it.

    ``kind`` is "feed" (RSS/Atom) or "page" (a section page without a feed: its article links).
    """

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True)
    kind: str = "feed"
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    next_fetch_at: datetime = Field(default_factory=utcnow, index=True)
    failures: int = 0  # consecutive failed fetches: the back-off grows with them
    failure_reason: str = ""
    # When it last answered with a listing (not a 304): its items seen then are what it lists
    # now (``FeedItem.last_seen_at``); retention forgets only old items it no longer lists.
    listed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class FeedItem(SQLModel, table=True):
    """An article a feed listed, and when it first did: what is new is what is not here yet."""

    __tablename__ = "feed_item"
    __table_args__ = (UniqueConstraint("feed_id", "url"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id", index=True)
    url: str
    title: str = ""
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime | None = None  # the last listing that held it (None: before 0013)


class Follow(SQLModel, table=True):
    """One chat following one feed; articles it brings are tracked ``days`` after they appear."""

    __table_args__ = (UniqueConstraint("chat_id", "number"), UniqueConstraint("chat_id", "feed_id"))

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    feed_id: int = Field(foreign_key="feed.id", index=True)
    number: int  # the chat's /unfollow number
    days: int = 7
    thread_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    told_failing: bool = False  # the chat heard once that the feed fails; reset when it recovers
    told_full: bool = False  # the chat heard once that its article cap skips new articles
    # Watchwords (bot.core.watchwords): only articles whose headline or text holds one are
    # brought, and their subscriptions carry them (only edits that change one are announced).
    watchwords: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    """One pending or sent announcement to one chat (the outbox): about an article, or (a
    follow's notice: its feed fails, the chat's cap skips its articles) about a follow."""

    __table_args__ = (UniqueConstraint("chat_id", "article_id", "version_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    article_id: int | None = Field(default=None, foreign_key="article.id", index=True)
    # A follow's notice (no article): its topic is the follow's. No foreign key (unfollow
    # deletes what is unsent of it; a sent one outlives the follow until retention).
    follow_id: int | None = Field(default=None, index=True)
    version_id: int | None = Field(default=None, foreign_key="version.id")
    kind: str = DeliveryKind.EDIT
    text: str = ""  # rendered Telegram HTML, fixed when the version is stored
    plain: str = ""  # the same without markup, sent if Telegram rejects the HTML
    # The inline buttons under it (bot.messages.buttons: rows of [label, callback data]).
    buttons: list[list[list[str]]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(default=DeliveryStatus.PENDING, index=True)
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow)
    # Who holds a 'sending' row and until when; a row whose lease ran out is taken back by
    # any sender (its claimant died), a live one by nobody.
    claimed_by: str = ""
    lease_until: datetime | None = None
    error: str = ""
    # The Telegram message that carries it: later announcements of the article reply to it,
    # and one that follows soon edits it instead (then both rows hold the same id).
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class CheckCount(SQLModel, table=True):
    """Checks per outcome per five minutes (``redline stats``, /metrics).

    Each process counts in memory and adds its counts here in one short transaction now and
    then, so counting costs no write per check; processes sharing a database add up.
    """

    __tablename__ = "check_count"

    bucket: datetime = Field(primary_key=True)  # start of the five minutes, UTC
    outcome: str = Field(primary_key=True)  # monitor.Outcome
    count: int = 0
