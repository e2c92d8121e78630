"""The texts of command replies (pure: data in, Telegram HTML out).

Handlers in ``commands`` only parse, call the store or the core, and send what these
functions return, so every wording is tested without Telegram.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from html import escape

from bot.core.digest import DayEdit
from bot.core.sensitivity import Sensitivity
from bot.core.states import ArticleState
from bot.core.watchwords import MAX_WORD_CHARS, MAX_WORDS, Watchwords
from bot.messages.limits import fits, truncate
from bot.messages.records import ArticleRecord, AwayRecord, VersionRecord
from bot.messages.time import ago

COMMANDS: list[tuple[str, str, str]] = [
    ("track", "Track an article: /track https://example.com/news/story", "URL"),
    ("untrack", "Stop tracking: /untrack 2 (number from /list) or /untrack URL", "N|URL"),
    ("list", "The articles this chat tracks, newest change first; /list changed, /list failing", ""),
    ("history", "Every version seen of an article: /history 2", "N|URL"),
    ("diff", "Word-level diff: /diff 2 (last edit) or /diff 2 1 3 (versions 1 and 3)", "N [A B]"),
    ("export", "History as a file: /export 2 (every version, JSON), /export 2 csv (every change)", "N [csv]"),
    ("sensitivity", "What counts as an edit in this chat: headline only, substantive, everything", ""),
    ("digest", "The day's edits: every article here that changed in the last 24 hours", ""),
    (
        "follow",
        "Track every new article of a feed or section page for N days: /follow URL 7 "
        "(add words: Putin, sanctions to take only articles that mention one)",
        "URL [N] [words: …]",
    ),
    ("unfollow", "Stop a follow: /unfollow 2 (number under Follows in /list)", "N"),
    ("channel", "Manage a channel from this private chat: pick it, then /track, /list… act on it", "[off]"),
    ("feed", "This chat's feed of changes for a feed reader (/feed revoke: a new address)", "[revoke]"),
    ("settings", "Quiet announcements and the time zone of this chat", ""),
    ("help", "What this bot does and how to use it", ""),
]
PRIVATE_ONLY = frozenset({"channel"})
"""Commands that work in a private chat only: no group's menu shows them."""
READ_ONLY = frozenset({"list", "history", "diff", "export", "digest", "feed", "help"})
"""Commands every group member may use (the rest change what the chat tracks or gets): what
group members see in their command menu; admins see them all."""

BOT_DESCRIPTION = (
    "I tell you when a news article is edited after publication: send me a link and I'll "
    "re-read the article, and post a word-level before/after whenever its headline or a "
    "paragraph changes. Works in private chats, groups and channels."
)
BOT_SHORT_DESCRIPTION = "Tells you when a news article is edited after publication. Send me a link."

USAGE = {
    "track": "Send the article's link after the command, like this:\n/track https://example.com/news/story",
    "untrack": "Say which article to stop tracking: /untrack 2 (its number in /list) or /untrack URL",
    "history": "Say which article: /history 2 (its number in /list) or /history URL",
    "diff": "Say which article: /diff 2 shows its last edit; /diff 2 1 3 compares versions 1 and 3.",
    "export": (
        "Say which article: /export 2 sends its history as JSON; /export 2 csv one row per change; "
        "/export follows sends this chat's follows as OPML."
    ),
    "feed": "/feed shows this chat's feed address; /feed revoke replaces it (the old one stops working).",
    "list": "/list shows every article, /list changed the edited ones, /list failing those I can't read.",
}


TOO_LONG = "That message is too long. Send one command with one link."
RATE_LIMITED = "Too many commands — please wait a minute and try again."
NOT_TRACKED = "This chat doesn't track that article. /list shows what it tracks."
NO_LONGER_TRACKED = "This chat no longer tracks that article (or it was deleted). /list shows what it tracks."
PAGE_SHOWN = "Page {page} of {pages}"
UNKNOWN_CHOICE = "Unknown choice."
SAVED = "Saved."


def no_such_number(number: int) -> str:
    return f"There is no #{number} in /list."


def bad_url(reason: str, command: str) -> str:
    """A URL argument refused (``reason`` is the URL rule's own sentence), then the usage."""
    return f"{reason}\n{USAGE[command]}"


def too_many_articles(count: int) -> str:
    return f"This chat already tracks {count} articles, the most I allow. /untrack some first."


def unknown_command(command: str) -> str:
    """The command is echoed as typed, so it is escaped like any other user text."""
    return f"I don't know {escape(command[:40])}. /help lists what I can do."


SENSITIVITY_LABELS: dict[Sensitivity, str] = {
    Sensitivity.HEADLINE: "Headline only",
    Sensitivity.SUBSTANTIVE: "Substantive edits (ignores punctuation and one-letter typo fixes)",
    Sensitivity.EVERYTHING: "Everything",
}


def sensitivity_button(choice: Sensitivity, current: str) -> str:
    return ("✅ " if choice == current else "") + SENSITIVITY_LABELS[choice]


def sensitivity_question(current: str) -> str:
    label = SENSITIVITY_LABELS[Sensitivity(current)]
    return f"What should count as an edit in this chat? Now: <b>{label}</b>."


def sensitivity_saved(choice: str, channel: str | None = None) -> str:
    who = "This chat" if channel is None else f"<b>{escape(channel)}</b>"
    return f"{who} now gets: <b>{SENSITIVITY_LABELS[Sensitivity(choice)]}</b>."


TRACK_BUTTON = "Track this article"
TRACK_BUTTON_PRESSED = "Reading the article…"
NO_LINK = "Send /track with an article's link. /help explains everything."


def offer_to_track(url: str) -> str:
    """The question under a link someone sent or forwarded; the link rides along in the
    message, so the button works without remembering anything."""
    shown = url.split("://", 1)[-1]
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    return f'Track this article? <a href="{escape(url, quote=True)}">{escape(shown)}</a>'


ADMINS_ONLY_BUTTON = "Only this group's admins can change its settings."
ADMINS_ONLY_CHANNEL_BUTTON = "Only this channel's admins can use its buttons."


def admins_only_button(chat_type: str) -> str:
    """What a press from someone who may not is answered with (an alert only they see)."""
    return ADMINS_ONLY_CHANNEL_BUTTON if chat_type == "channel" else ADMINS_ONLY_BUTTON


ADMIN_LOOKUP_FAILED = "I couldn't check who this group's admins are. Please try again in a minute."


def admins_only(command: str) -> str:
    """What a plain group member reads instead of a change to the group's list or settings."""
    return f"Only this group's admins can use /{command} here. Everyone can use /list, /history and /diff."


def help_text() -> str:
    lines = [
        "<b>Redline</b> tells you when a news article is edited after publication.",
        "Track an article and I'll re-read it on a schedule; when its headline or a paragraph "
        "changes, I post a word-level before/after here: <s>old words</s> <b>new words</b>.",
        "",
        "<b>Quickest:</b> send or forward me a link in a private chat and tap <i>Track this article</i>.",
        "Under every edit: <i>Full diff</i>, <i>History</i> and <i>Stop tracking</i> buttons.",
        "",
    ]
    lines += [f"/{name} — {escape(text)}" for name, text, _ in COMMANDS]
    lines += [
        "",
        "Reply /track to any message with a link to track it; reply /diff, /history or /untrack "
        "to one of my edit messages to act on that article.",
        "Works in private chats, groups and channels (add me as an admin in a channel). "
        "In groups only admins can /track, /untrack and change /sensitivity and /settings.",
    ]
    return "\n".join(lines)


STATE_LABEL = {
    ArticleState.ACTIVE: "watching",
    ArticleState.FAILING: "can't read it right now",
    ArticleState.DORMANT: "dormant (unchanged for a long time)",
    ArticleState.GONE: "gone",
}


def _link(article: ArticleRecord) -> str:
    title = article.title or article.url
    return f'<a href="{escape(article.url, quote=True)}">{escape(title)}</a>'


def tracking_started(number: int, article: ArticleRecord, channel: str | None = None) -> str:
    """``channel``: the title of the channel tracked for (managed from a private chat)."""
    where, which = ("here", "this chat") if channel is None else (f"in <b>{escape(channel)}</b>", "it")
    return (
        f"👀 Tracking #{number}: {_link(article)} · {escape(article.site)}\n"
        f"I'll post {where} when the headline or a paragraph changes. /list shows what {which} tracks."
    )


def already_tracking(number: int, article: ArticleRecord) -> str:
    return f"This chat already tracks that article as #{number}: {_link(article)}"


def only_one_version(number: int) -> str:
    return f"#{number} has only one version so far: no edits seen yet."


def no_such_version(number: int, last: int, missing: int) -> str:
    return f"#{number} has versions 1 to {last}; there is no version {missing}."


def same_text(number: int, a: int, b: int) -> str:
    return f"Versions {a} and {b} of #{number} have the same text."


def export_caption(number: int, article: ArticleRecord, versions: int, fmt: str) -> str:
    what = "every version" if fmt == "json" else "one row per change"
    return (
        f"History of #{number}: {_link(article)} · {versions} version{'s' if versions != 1 else ''} "
        f"({fmt.upper()}, {what})"
    )


def size_text(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n / 1000:.3g} KB"


def export_too_big(number: int, size: int, limit: int, fmt: str) -> str:
    smaller = f" /export {number} csv is smaller." if fmt != "csv" else ""
    return (
        f"The history of #{number} is too big to send: {size_text(size)} as {fmt.upper()}, "
        f"and I may send at most {size_text(limit)}.{smaller}"
    )


def untracked(number: int, article: ArticleRecord) -> str:
    return f"Stopped tracking #{number}: {_link(article)}"


LIST_PAGE_SIZE = 10
"""Rows per /list page: with titles cut to TITLE_CHARS a page stays far inside Telegram's
limits (measured with limits.fits in test_messages) and reads on one phone screen."""
HISTORY_PAGE_SIZE = 15
TITLE_CHARS = 120
SUMMARY_CHARS = 120

LIST_HEADS = {
    "all": "Tracked articles",
    "changed": "Edited articles",
    "failing": "Articles I can't read",
}
LIST_EMPTY = {
    "all": "This chat tracks no articles yet. Send /track URL to start.",
    "changed": "None of this chat's articles has been edited yet. /list shows them all.",
    "failing": "I can read every article this chat tracks. /list shows them all.",
}
LIST_FILTERS = "Only some: /list changed · /list failing"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_link(article: ArticleRecord) -> str:
    title = _cut(article.title or article.url, TITLE_CHARS)
    return f'<a href="{escape(article.url, quote=True)}">{escape(title)}</a>'


def list_page(
    rows: Sequence[tuple[int, ArticleRecord, int]],
    now: datetime,
    *,
    wanted: str = "all",
    total: int,
    page: int = 1,
    pages: int = 1,
) -> str:
    """One page of /list (newest change first); ◀ ▶ buttons turn the pages."""
    if not rows:
        return LIST_EMPTY[wanted]
    where = f" · page {page} of {pages}" if pages > 1 else ""
    lines = [f"<b>{LIST_HEADS[wanted]}</b> · {total} · newest change first{where}"]
    for number, article, versions in rows:
        changed = (
            "no edits yet" if versions <= 1 else f"v{versions}, changed {ago(article.last_changed_at, now)}"
        )
        state = (
            "" if article.state == ArticleState.ACTIVE else f" · {STATE_LABEL[ArticleState(article.state)]}"
        )
        lines.append(
            f"#{number} {_short_link(article)} · {escape(_cut(article.site, 60))} · {changed}{state}"
        )
    lines.append("/history_N shows an article's versions." if wanted != "all" else LIST_FILTERS)
    return "\n".join(lines)


def history_page(
    number: int,
    article: ArticleRecord,
    versions: Sequence[VersionRecord],
    *,
    page: int = 1,
    tz: tzinfo = UTC,
    size: int = HISTORY_PAGE_SIZE,
    link: str | None = None,
) -> str:
    """One page of /history, newest version first; each edit's line ends with the command
    that shows it (tappable: the arguments are part of the command); with ``link`` (the
    article's history page on the web) a line leading there last."""
    pages = page_count(len(versions), size)
    page = min(max(page, 1), pages)
    newest = sorted(versions, key=lambda v: v.number, reverse=True)
    shown = newest[(page - 1) * size : page * size]
    where = f" · page {page} of {pages}, newest first" if pages > 1 else ""
    lines = [f"<b>History of #{number}</b>: {_short_link(article)}{where}"]
    for v in shown:
        line = f"v{v.number} · {stamp(v.created_at, tz)} · {escape(_cut(v.summary, SUMMARY_CHARS))}"
        if v.number > 1:
            line += f" · /diff_{number}_{v.number - 1}_{v.number}"
        lines.append(line)
    if len(versions) > 1:
        lines.append(f"/diff {number} A B compares any two versions.")
    if link is not None:
        lines.append(page_link(link))
    return "\n".join(lines)


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))


def stamp(moment: datetime, tz: tzinfo) -> str:
    """A moment in the chat's time zone, named by its abbreviation ("UTC", "CET")."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'UTC'}"


def fit(lines: list[str], more: str, keep_head: int = 1) -> str:
    """Join lines, dropping from the middle until the message fits Telegram's limits."""
    text = "\n".join(lines)
    if fits(text):
        return text
    head, body = lines[:keep_head], lines[keep_head:]
    while body and not fits("\n".join([*head, more, *body])):
        body.pop(0)
    return "\n".join([*head, more, *body])


def welcome_back(changes: Sequence[AwayRecord]) -> tuple[str, str]:
    """One message for a chat the bot could not write to for a while: what changed meanwhile
    (HTML and plain), instead of replaying every announcement it missed."""
    many = len(changes) != 1
    head = (
        f"👋 Back in touch. While I could not post here, {len(changes)} tracked "
        f"article{'s' if many else ''} changed:"
    )
    rows = [(c, f"v{c.old} → v{c.new} · /diff_{c.number}_{c.old}_{c.new}") for c in changes]
    html = [escape(head)] + [f"#{c.number} <b>{escape(c.title)}</b> — {tail}" for c, tail in rows]
    plain = [head] + [f"#{c.number} {c.title} — {tail}" for c, tail in rows]
    return fit(html, "…"), truncate("\n".join(plain))


# -- the web pages and feeds (bot.web), linked from Telegram when web.public_url is set -----

WEB_OFF = "This bot has no web pages: its operator has not given them an address ([web] public_url)."


def page_link(url: str) -> str:
    """The line that leads from a message to the article's history page."""
    return f'🌐 <a href="{escape(url, quote=True)}">Every version, word by word</a>'


def with_page_link(text: str, plain: str, url: str) -> tuple[str, str]:
    """An announcement (HTML and plain) with the history page's link as its last line, when
    that still fits Telegram's limits; as it was otherwise (its /diff pointer stays)."""
    linked, linked_plain = f"{text}\n{page_link(url)}", f"{plain}\n🌐 Every version, word by word: {url}"
    if fits(linked) and fits(linked_plain, html=False):
        return linked, linked_plain
    return text, plain


def feed_address(url: str) -> str:
    return (
        "📰 This chat's feed of changes (Atom), for any feed reader:\n"
        f'<a href="{escape(url, quote=True)}">{escape(url)}</a>\n'
        "Anyone with this address can read the changes to what this chat tracks. "
        "/feed revoke gives a new one and turns this one off."
    )


def feed_revoked(url: str) -> str:
    return (
        "🔒 The old feed address and the old page links no longer work. The new feed:\n"
        f'<a href="{escape(url, quote=True)}">{escape(url)}</a>'
    )


ZONES = ("UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "America/New_York", "Asia/Kolkata")
"""The time zones /settings offers as buttons; /timezone takes any IANA name."""


def settings_text(quiet: bool, timezone: str, digest_only: bool | None = None) -> str:
    """``digest_only``: whether followed articles only appear in the daily digest (None: the
    daily digest is off, so the choice does not arise)."""
    sound = "🔕 without sound" if quiet else "🔔 with sound"
    followed = "" if digest_only is None else f"{followed_articles(digest_only)}\n"
    return (
        "<b>Settings of this chat</b>\n"
        f"Announcements arrive {sound}.\n"
        f"Times in /history are shown in {escape(timezone)}.\n"
        f"{followed}"
        "Tap to change. Any other time zone: /timezone Europe/Paris"
    )


def followed_articles(digest_only: bool) -> str:
    """How edits of articles a follow brought reach a chat with the daily digest on."""
    if digest_only:
        return "Edits of articles your follows bring appear only in the daily digest (and /history, /digest)."
    return "Edits of articles your follows bring are announced one by one."


def digest_only_button(digest_only: bool) -> str:
    return "📡 Announce followed articles one by one" if digest_only else "📡 Followed articles: digest only"


DIGEST_ONLY_NEEDS_DIGEST = "Turn on the daily digest first: /digest, then “Send this every day”."


def quiet_button(quiet: bool) -> str:
    return "🔔 Announce with sound" if quiet else "🔕 Announce without sound"


def zone_button(zone: str, current: str) -> str:
    label = zone.rsplit("/", 1)[-1].replace("_", " ")
    return ("✅ " if zone == current else "") + label


def timezone_saved(timezone: str) -> str:
    return f"Times in /history are now shown in {escape(timezone)}."


def unknown_timezone(name: str) -> str:
    return (
        f"I don't know the time zone “{escape(name[:60])}”. Use a name like Europe/Berlin or "
        "America/New_York (the IANA list), or UTC."
    )


def timezone_usage(current: str) -> str:
    return f"Times here are shown in {escape(current)}. Change it: /timezone Europe/Berlin"


def quiet_saved(quiet: bool) -> str:
    return "Announcements now arrive without sound." if quiet else "Announcements now arrive with sound."


WATCHWORDS_EXAMPLES = {
    "track": "/track https://example.com/news/story words: Putin, sanctions",
    "follow": "/follow https://example.com/world/rss.xml words: Putin, sanctions",
}


def watchwords_empty(command: str = "track") -> str:
    return f"Put the words after “words:”, separated by commas, like this:\n{WATCHWORDS_EXAMPLES[command]}"


def watchwords_refused(words: Watchwords, command: str = "track") -> str | None:
    """Why these watchwords cannot be kept, or None when they can (``command``: the example)."""
    if words.marked and not words.words:
        return watchwords_empty(command)
    if words.too_many:
        return f"That is {len(words.words)} watchwords; {MAX_WORDS} at most, please."
    if (long := words.too_long) is not None:
        return f"A watchword may be {MAX_WORD_CHARS} characters at most: “{escape(long[:MAX_WORD_CHARS])}…”"
    return None


def words_listed(words: Sequence[str]) -> str:
    """Watchwords as replies show them: "<b>Putin</b>, <b>sanctions</b>"."""
    return ", ".join(f"<b>{escape(w)}</b>" for w in words)


def watching(words: Sequence[str]) -> str:
    """The line under a /track reply when the subscription has watchwords."""
    return (
        f"🔎 Watchwords: {words_listed(words)}. I'll post only edits whose changed words contain one; "
        "the others stay in /history."
    )


NO_EDITS_TODAY = "No article this chat tracks changed in the last 24 hours."


def day_digest(edits: Sequence[DayEdit]) -> tuple[str, str]:
    """/digest and the daily digest: the day's edited articles, most significant first, each
    with its /diff (HTML, plain)."""
    if not edits:
        return NO_EDITS_TODAY, NO_EDITS_TODAY
    many = len(edits) != 1
    head = f"🗞 The day's edits: {len(edits)} article{'s' if many else ''} changed in the last 24 hours"
    html, plain = [head], [head]
    for e in edits:
        what = ", ".join([*e.tags, *(part for part in e.summary.split(", ") if part not in e.tags)])
        tail = f" — {what} · v{e.old} → v{e.new} · /diff_{e.number}_{e.old}_{e.new}"  # tappable
        html.append(f"#{e.number} <b>{escape(e.title)}</b>{escape(tail)}")
        plain.append(f"#{e.number} {e.title}{tail}")
    return fit(html, "…"), truncate("\n".join(plain))


DIGEST_BUTTON = "📬 Send this every day"
DIGEST_OFF_BUTTON = "Off"
DIGEST_OFF = "Daily digest off. /digest still shows the day's edits."


def digest_time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def digest_button(minute: int, current: int | None) -> str:
    return ("✅ " if minute == current else "") + digest_time(minute)


def digest_on(minute: int, timezone: str) -> str:
    return (
        f"📬 Daily digest on: every day at {digest_time(minute)} ({escape(timezone)}) I'll post the "
        "articles that changed in the last 24 hours (nothing on a day without edits). "
        "/settings changes the time zone."
    )
