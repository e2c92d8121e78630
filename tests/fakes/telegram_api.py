"""A fake Telegram Bot API server for tests.

The real python-telegram-bot ``Bot``/``Application`` talks to it over HTTP on 127.0.0.1
(``base_url``), so tests exercise the same request encoding, error mapping and polling loop as
production without patching library internals or touching the internet.

It refuses what Telegram refuses (bad HTML, over-long text, unknown chats, blocked users,
migrated groups) with Telegram's own error descriptions, and lets a test drive the bot as a
user (:meth:`FakeTelegram.user_says`, :meth:`FakeTelegram.press_button`) and inspect what the
bot sent (:attr:`FakeTelegram.sent`, :meth:`FakeTelegram.wait_for`).

Everything runs in the test's event loop; the driving helpers are synchronous and must be
called from that loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import itertools
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

__all__ = [
    "MAX_CAPTION_LENGTH",
    "MAX_ENTITIES",
    "MAX_MESSAGE_LENGTH",
    "SEND_METHODS",
    "ApiError",
    "EntityParseError",
    "FakeTelegram",
    "GatewayError",
    "ParsedText",
    "SendLimits",
    "SentMessage",
    "UploadedFile",
    "UploadedPart",
    "parse_telegram_html",
    "utf16_len",
]

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 4096
"""Telegram's limit for message text, in UTF-16 code units of the visible text."""
MAX_CAPTION_LENGTH = 1024
MAX_ENTITIES = 100
"""Telegram keeps only this many formatting entities and silently drops the rest."""
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_CALLBACK_DATA_BYTES = 64
MAX_DESCRIPTION_LENGTH = 512  # setMyDescription
MAX_SHORT_DESCRIPTION_LENGTH = 120  # setMyShortDescription
MAX_COMMANDS = 100  # setMyCommands
# BotCommandScope types, and which of them name a chat (and a user)
_SCOPES = {
    "default": (),
    "all_private_chats": (),
    "all_group_chats": (),
    "all_chat_administrators": (),
    "chat": ("chat_id",),
    "chat_administrators": ("chat_id",),
    "chat_member": ("chat_id", "user_id"),
}

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
DEFAULT_GROUP_USER_ID = 4001
"""The user who speaks in a group when a test does not say who."""
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
"""Telegram's ``from`` on messages an administrator posts anonymously, as the group itself."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), e.g. an emoji counts 2."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _now() -> int:
    """Telegram dates are whole seconds; PTB would misread milliseconds as far future."""
    return int(time.time())


# ---------------------------------------------------------------------------------------------
# Telegram's HTML dialect
# ---------------------------------------------------------------------------------------------


class EntityParseError(ValueError):
    """Why Telegram refuses formatted text; goes after ``can't parse entities: ``."""


@dataclass(frozen=True)
class ParsedText:
    """Visible text plus MessageEntity dicts (UTF-16 offsets), as Telegram stores a message."""

    text: str
    entities: list[dict[str, Any]]


_ALLOWED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# tdlib's is_space() also treats NUL as a space; we use NUL as the end-of-text sentinel.
_SPACES = frozenset(" \t\r\n\v\f\0")
_ASCII_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_TOKEN_CHARS = _ASCII_LETTERS | _ASCII_DIGITS | {".", "-"}
_LINK_SCHEMES = frozenset({"http", "https", "tg", "ton", "tonsite"})


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_index: int  # where the tag's visible text starts in the output list


class _TelegramHtmlParser:
    """A port of tdlib's ``parse_html`` (the parser behind the Bot API's ``parse_mode=HTML``).

    It mirrors tdlib's scanning so errors carry the same wording and byte offsets, e.g.
    ``Unsupported start tag "br" at byte offset 12``. ``html.parser`` is deliberately not
    used: it accepts a lot of HTML that Telegram refuses.
    """

    def __init__(self, source: str, *, strict_ampersand: bool) -> None:
        self.src = source
        self.n = len(source)
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    # -- helpers -----------------------------------------------------------------------------

    def ch(self, k: int) -> str:
        return self.src[k] if k < self.n else "\0"

    def byte_offset(self, k: int) -> int:
        return len(self.src[:k].encode("utf-8", "surrogatepass"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def skip_spaces(self, k: int) -> int:
        while k < self.n and self.src[k] in _SPACES:
            k += 1
        return k

    def decode_entity(self, pos: int) -> tuple[str, int] | None:
        """Decode ``&...;`` at ``pos`` like tdlib: the four named entities and numeric ones.

        Returns the character and the position after the reference, or None when it is not
        a reference Telegram understands (Telegram then keeps the ``&`` literally).
        """
        end = pos + 1
        code = 0
        if self.ch(pos + 1) == "#":
            end += 1
            if self.ch(pos + 2) == "x":
                end += 1
                while self.ch(end) in _HEX_DIGITS:
                    code = code * 16 + int(self.ch(end), 16)
                    end += 1
            else:
                while self.ch(end) in _ASCII_DIGITS:
                    code = code * 10 + int(self.ch(end))
                    end += 1
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return None
            if 0xD800 <= code <= 0xDFFF:
                raise EntityParseError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            char = chr(code)
        else:
            while self.ch(end) in _ASCII_LETTERS:
                end += 1
            named = _NAMED_ENTITIES.get(self.src[pos + 1 : end])
            if named is None:
                return None
            char = named
        if self.ch(end) == ";":
            end += 1
        return char, end

    def refuse_bare_ampersand(self, pos: int) -> None:
        """Strict mode: a ``&`` that starts no entity means a user string was not escaped."""
        if self.strict_ampersand:
            raise EntityParseError(f'Unescaped "&" at byte offset {self.byte_offset(pos)}')

    # -- the scan ----------------------------------------------------------------------------

    def parse(self) -> ParsedText:
        i = 0
        while i < self.n:
            c = self.src[i]
            if c == "&":
                decoded = self.decode_entity(i)
                if decoded is not None:
                    self.emit(decoded[0])
                    i = decoded[1]
                    continue
                self.refuse_bare_ampersand(i)
            if c != "<":
                self.emit(c)
                i += 1
                continue
            i = self.end_tag(i) if self.ch(i + 1) == "/" else self.start_tag(i)
        if self.stack:
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def start_tag(self, begin: int) -> int:
        offset = self.byte_offset(begin)
        k = begin + 1
        while self.ch(k) not in _SPACES and self.ch(k) != ">":
            k += 1
        if k >= self.n:
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        name = self.src[begin + 1 : k].lower()
        if name not in _ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')

        argument = ""
        while self.ch(k) != ">":
            k = self.skip_spaces(k)
            if self.ch(k) == ">":
                break
            attr_begin = k
            while self.ch(k) not in _SPACES and self.ch(k) not in "=>":
                k += 1
            attr = self.src[attr_begin:k].lower()
            if not attr:
                raise EntityParseError(f'Empty attribute name in the tag "{name}" at byte offset {offset}')
            k = self.skip_spaces(k)
            if self.ch(k) != "=":
                if name == "blockquote" and attr == "expandable":
                    argument = "expandable"
                    continue
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {offset}'
                )
            k = self.skip_spaces(k + 1)
            if k >= self.n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {offset}')
            value, k = self.attribute_value(k)
            if k >= self.n:
                raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
            if name == "a" and attr == "href":
                argument = value
            elif name == "code" and attr == "class" and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif name == "span" and attr == "class" and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
            elif name == "tg-emoji" and attr == "emoji-id":
                argument = value

        if name == "span" and argument != "spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        self.stack.append(_OpenTag(name, argument, self.utf16, len(self.out)))
        return k + 1

    def attribute_value(self, k: int) -> tuple[str, int]:
        quote = self.ch(k)
        if quote not in "'\"":
            # An unquoted name token: letters, digits, periods, hyphens; case-insensitive.
            token_begin = k
            while self.ch(k) in _NAME_TOKEN_CHARS:
                k += 1
            if self.ch(k) not in _SPACES and self.ch(k) != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(token_begin)}"
                )
            return self.src[token_begin:k].lower(), k
        k += 1
        chars: list[str] = []
        while k < self.n and self.src[k] != quote:
            if self.src[k] == "&":
                decoded = self.decode_entity(k)
                if decoded is not None:
                    chars.append(decoded[0])
                    k = decoded[1]
                    continue
                self.refuse_bare_ampersand(k)
            chars.append(self.src[k])
            k += 1
        if self.ch(k) == quote:
            k += 1
        return "".join(chars), k

    def end_tag(self, begin: int) -> int:
        offset = self.byte_offset(begin)
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
        k = begin + 2
        while self.ch(k) not in _SPACES and self.ch(k) != ">":
            k += 1
        end_name = self.src[begin + 2 : k].lower()
        k = self.skip_spaces(k)
        if self.ch(k) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {offset}")
        open_tag = self.stack[-1]
        if end_name and end_name != open_tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{open_tag.name}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16 > open_tag.utf16_offset:
            self.add_entity(open_tag)
        self.stack.pop()
        return k + 1

    def add_entity(self, tag: _OpenTag) -> None:
        """Turn a closed, non-empty tag into a MessageEntity, merging ``<pre><code>`` as tdlib."""
        offset = tag.utf16_offset
        length = self.utf16 - offset
        entity: dict[str, Any] = {"offset": offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (offset, length)
        if tag.name in _SIMPLE_TAG_TYPES:
            entity["type"] = _SIMPLE_TAG_TYPES[tag.name]
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        elif tag.name == "a":
            url = _checked_link(tag.argument or "".join(self.out[tag.out_index :]))
            if url is None:
                return  # Telegram silently drops links it cannot use.
            entity.update(type="text_link", url=url)
        elif tag.name == "pre":
            if same_span and last is not None and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
                return
            entity["type"] = "pre"
        elif tag.name == "code":
            if same_span and last is not None and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
                return
            entity["type"] = "code"
            if tag.argument:
                # Kept only until a surrounding <pre> claims it; see parse_telegram_html.
                entity["language"] = tag.argument
        elif tag.name == "blockquote":
            entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
        self.entities.append(entity)


def _checked_link(url: str) -> str | None:
    """Roughly tdlib's link check: known schemes pass, a bare domain gets ``http://``."""
    url = url.strip()
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    if match:
        return url if match.group(1).lower() in _LINK_SCHEMES else None
    if re.match(r"[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}(?:[/:?#]|$)", url):
        return f"http://{url}"
    return None


def parse_telegram_html(text: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse ``text`` the way Telegram does for ``parse_mode=HTML``.

    Raises :class:`EntityParseError` with Telegram's reason when Telegram would answer
    ``400 Bad Request: can't parse entities: <reason>``.

    ``strict_ampersand``: Telegram shows a ``&`` that starts no known entity literally
    ("AT&T" is accepted). In our bot that always means a user string was not escaped, so by
    default the fake refuses it; pass False for Telegram's exact behaviour.
    """
    parsed = _TelegramHtmlParser(text, strict_ampersand=strict_ampersand).parse()
    for entity in parsed.entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return parsed


# ---------------------------------------------------------------------------------------------
# Records a test inspects
# ---------------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A file the bot uploaded (or referenced by URL); downloadable via ``base_file_url``."""

    file_id: str
    file_unique_id: str
    file_path: str
    filename: str | None
    mime_type: str | None
    data: bytes | None  # None when the bot passed a URL instead of bytes
    url: str | None = None


@dataclass
class SentMessage:
    """One message the bot sent or edited, as the fake accepted it."""

    chat_id: int
    text: str  # as the bot sent it (raw HTML when parse_mode=HTML); the caption for files
    parse_mode: str | None
    link_preview_disabled: bool
    reply_markup: dict[str, Any] | None
    message_id: int
    method: str  # "sendMessage", "editMessageText", "sendDocument", "sendPhoto"
    params: dict[str, Any]
    plain_text: str = ""  # what the user sees, after entity parsing
    entities: list[dict[str, Any]] = field(default_factory=list)
    entities_count: int = 0  # before Telegram's cut at MAX_ENTITIES
    file: UploadedFile | None = None
    at: float = 0.0  # the event loop's time when the request arrived (how long an answer took)

    @property
    def button_data(self) -> list[str]:
        """callback_data of every inline button, row by row, for press_button()."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]

    def __str__(self) -> str:
        shown = self.text if len(self.text) <= 120 else self.text[:117] + "..."
        return f"{self.method} chat={self.chat_id} id={self.message_id}: {shown!r}"


class ApiError(Exception):
    """A Bot API failure answered as ``{"ok": false, ...}`` with Telegram's wording."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class GatewayError(ApiError):
    """Telegram's front end answering 502 Bad Gateway with its HTML page, not the Bot API's JSON
    (what a blip at Telegram looks like to a client)."""

    PAGE = (
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )

    def __init__(self) -> None:
        super().__init__(502, "Bad Gateway")


def _bad_request(reason: str, parameters: dict[str, Any] | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


# ---------------------------------------------------------------------------------------------
# Request decoding
# ---------------------------------------------------------------------------------------------

# Form posts carry every value as a string (PTB JSON-encodes non-strings). Typing them at the
# boundary lets the method handlers, and test assertions on ``requests``, see real values.
_INT_FIELDS = frozenset(
    {
        "message_id", "user_id", "offset", "limit", "timeout", "message_thread_id",
        "reply_to_message_id", "cache_time", "max_connections", "from_chat_id", "until_date",
    }
)  # fmt: skip
_BOOL_FIELDS = frozenset(
    {
        "disable_notification", "protect_content", "drop_pending_updates", "show_alert",
        "disable_web_page_preview", "allow_sending_without_reply", "has_spoiler",
        "disable_content_type_detection", "allow_paid_broadcast", "show_caption_above_media",
    }
)  # fmt: skip
_JSON_FIELDS = frozenset(
    {
        "reply_markup", "link_preview_options", "reply_parameters", "entities",
        "caption_entities", "commands", "scope", "allowed_updates", "media",
    }
)  # fmt: skip


@dataclass
class UploadedPart:
    """A multipart file part as received, before the method decides what it is."""

    filename: str | None
    content_type: str | None
    data: bytes


def _typed(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name == "chat_id":
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    if name in _INT_FIELDS:
        try:
            return int(float(value))
        except ValueError:
            raise _bad_request(f"invalid {name} specified") from None
    if name in _BOOL_FIELDS:
        return value.strip().lower() in ("true", "1")
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None
    return value


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedPart]]:
    """Query string, then a JSON, form-urlencoded or multipart body, as Telegram accepts."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedPart] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad_request("JSON object expected")
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedPart(value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = value if isinstance(value, str) else bytes(value).decode()
    return {key: _typed(key, value) for key, value in raw.items()}, files


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------

_BLOCKED_DESCRIPTIONS = {
    "private": "Forbidden: bot was blocked by the user",
    "group": "Forbidden: bot was kicked from the group chat",
    "supergroup": "Forbidden: bot was kicked from the supergroup chat",
    "channel": "Forbidden: bot is not a member of the channel chat",
}
_CHAT_TYPES = frozenset(_BLOCKED_DESCRIPTIONS)
_MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    blocked: bool = False
    migrated_to: int | None = None
    statuses: dict[int, str] = field(default_factory=dict)  # set by the test
    seen_users: set[int] = field(default_factory=set)
    explicit_admins: bool = False
    last_message_id: int = 0
    bot_status: str = "member"  # the bot's own membership ("kicked" or "left" when removed)
    bot_muted: bool = False  # a member without the right to send messages
    is_forum: bool = False
    topics: dict[int, str] = field(default_factory=dict)  # message_thread_id → name (live ones)
    # The reply keyboard the bot last put under the message field (None: the user's own).
    keyboard: dict[str, Any] | None = None

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class _Stored:
    message: dict[str, Any]
    from_bot: bool


class _Signal:
    """Wakes every waiter on "something changed".

    ``notify`` is synchronous (the driving helpers are plain functions), which an
    ``asyncio.Condition`` cannot offer; waiters re-check their own predicate after waking.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?(?![A-Za-z0-9_@])")
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)

Handler = Callable[[dict[str, Any], dict[str, UploadedPart]], Awaitable[Any]]


@dataclass(frozen=True)
class SendLimits:
    """Telegram's flood limits for messages a bot posts, as sliding windows: (messages, seconds).

    Telegram documents "about one message a second" in a chat (short bursts pass), 20 a minute
    in a group or channel, 30 a second overall; past them it answers 429 with ``retry_after``.
    """

    per_chat: tuple[int, float] = (5, 5.0)  # a private chat: one a second, bursts of five
    per_group: tuple[int, float] = (20, 60.0)  # groups, supergroups and channels
    overall: tuple[int, float] = (30, 1.0)


SEND_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto"})
"""Methods that post a new message, and so count towards ``SendLimits``."""


class FakeTelegram:
    """A Bot API server on 127.0.0.1 that behaves, for our bot's purposes, like Telegram."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "redline_test_bot",
        *,
        strict_ampersand: bool = True,
        limits: SendLimits | None = SendLimits(),
    ) -> None:
        self.token = token
        self.limits = limits  # None: no flood limits (a test about something else that bursts)
        self._posted: deque[tuple[float, int]] = deque()  # (loop time, chat id) of each post
        self.rate_limited: list[tuple[str, int, int]] = []  # (method, chat id, retry_after) of each 429
        self._parse_refusals_expected = 0
        self.bot_username = bot_username
        self.strict_ampersand = strict_ampersand
        self.bot_id = int(token.split(":", 1)[0])
        self.base_url = ""
        self.base_file_url = ""

        # What the bot did.
        self.sent: list[SentMessage] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.request_times: list[float] = []  # loop time each of ``requests`` arrived
        self.failures: list[tuple[str, int, str]] = []  # (method, error_code, description)
        self.commands: list[dict[str, Any]] = []  # the default scope's menu
        # Every scope's menu, by the scope's JSON (sorted keys); "default" for the default one.
        self.command_menus: dict[str, list[dict[str, Any]]] = {}
        self.description = ""
        self.short_description = ""
        self.callback_answers: list[dict[str, Any]] = []

        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], _Stored] = {}
        self._files: dict[str, UploadedFile] = {}
        self._file_counter = itertools.count(1)
        self._faults: dict[str, deque[ApiError]] = {}
        self._slow: dict[str, deque[float]] = {}
        self._flood_until = 0.0  # loop time until which every call to a chat answers 429
        self._flood_seconds, self._flood_after = 0.0, -1
        self._malformed: set[str] = set()
        self._answers = asyncio.Event()
        self._answers.set()
        self.flood_answers: list[tuple[float, int]] = []  # (loop time, retry_after) of each 429
        self._open_queries: set[str] = set()
        self._query_counter = itertools.count(1)

        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1000
        self._updates_signal = _Signal()
        self._sent_signal = _Signal()
        self._poll_generation = 0

        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.webhook_retry_delay = 0.2

        self._runner: web.AppRunner | None = None
        self._closing = False
        self._revoked = False
        self._handlers: dict[str, Handler] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "setMyDescription": self._set_my_description,
                "setMyShortDescription": self._set_my_short_description,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "sendDocument": self._send_document,
                "getFile": self._get_file,
            }.items()
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 and set ``base_url``/``base_file_url``."""
        app = web.Application(middlewares=[self._guard], client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        # access_log=None: the access log would print every URL, and URLs hold the token.
        # handler_cancellation: a client that gives up a long poll frees its handler.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self.base_file_url = f"http://127.0.0.1:{port}/file/bot"

    async def stop(self) -> None:
        """Answer pending long polls with no updates, then shut the server down."""
        self._closing = True
        self._answers.set()
        self._updates_signal.notify()
        self._sent_signal.notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- driving the bot as a user -----------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
    ) -> None:
        """Make a chat known, as if the bot had been added to it (or the user pressed Start)."""
        self._ensure_chat(chat_id, chat_type, title=title, username=username)

    def user_says(
        self,
        chat_id: int,
        text: str,
        *,
        chat_type: str | None = None,
        user_id: int | None = None,
        title: str | None = None,
        username: str = "alice",
        reply_to: int | None = None,
        links: Mapping[str, str] | None = None,
        anonymous: bool = False,
        forwarded_from: str | None = None,
        thread_id: int | None = None,
        document: UploadedFile | None = None,
    ) -> int:
        """Queue a message (or a channel post) as Telegram would deliver it; return update_id.

        ``chat_type`` defaults to the chat's known type, else "private" for a positive id,
        "supergroup" for -100… ids and "group" for other negative ids. In a private chat the
        user is the chat. Writing to a bot one blocked unblocks it, as in Telegram.
        ``reply_to`` is the id of a message in the chat this one replies to; ``links`` maps words
        of ``text`` to the address they link to (a text_link, as a client's "add link" makes).
        ``anonymous``: a group administrator posting as the group (``sender_chat`` is the group).
        ``forwarded_from``: the title of a channel the message was forwarded from.
        ``thread_id``: the forum topic it is written in.
        """
        chat = self._ensure_chat(chat_id, chat_type, title=title, username=None)
        message: dict[str, Any] = {
            "message_id": chat.next_message_id(),
            "date": _now(),
            "chat": chat.as_json(),
            "text": text,
        }
        entities = self._detect_entities(text)
        for shown, url in (links or {}).items():
            start = text.index(shown)
            entities.append(
                {
                    "type": "text_link",
                    "offset": utf16_len(text[:start]),
                    "length": utf16_len(shown),
                    "url": url,
                }
            )
        entities.sort(key=lambda e: e["offset"])
        if entities:
            message["entities"] = entities
        if document is not None:  # a file: its text is a caption (user_sends_document)
            text_ = message.pop("text")
            if text_:
                message["caption"] = text_
            if "entities" in message:
                message["caption_entities"] = message.pop("entities")
            message["document"] = {
                "file_id": document.file_id,
                "file_unique_id": document.file_unique_id,
                "file_name": document.filename,
                "mime_type": document.mime_type,
                "file_size": len(document.data or b""),
            }
        if thread_id is not None:
            if thread_id not in chat.topics:
                raise AssertionError(f"chat {chat_id} has no topic {thread_id}")
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if reply_to is not None:
            replied = self._messages.get((chat.id, reply_to))
            if replied is None:
                raise AssertionError(f"chat {chat_id} has no message {reply_to} to reply to")
            # Telegram nests one level only: the replied message comes without its own reply.
            message["reply_to_message"] = {
                k: v for k, v in copy.deepcopy(replied.message).items() if k != "reply_to_message"
            }
        if forwarded_from is not None:
            origin = {"id": -1001000000001, "type": "channel", "title": forwarded_from}
            message["forward_origin"] = {"type": "channel", "date": _now(), "chat": origin, "message_id": 1}
        if anonymous:
            if chat.type not in ("group", "supergroup"):
                raise ValueError("only a group's administrators post anonymously")
            message["sender_chat"] = chat.as_json()
            message["from"] = copy.deepcopy(ANONYMOUS_ADMIN)
            kind = "message"
        elif chat.type == "channel":
            message["sender_chat"] = chat.as_json()
            kind = "channel_post"
        else:
            if chat.type == "private":
                if user_id not in (None, chat_id):
                    raise ValueError("in a private chat the user id is the chat id")
                user_id = chat_id
                if chat.username is None:
                    chat.username = username
                    chat.first_name = username.capitalize()
                chat.blocked = False
            elif user_id is None:
                user_id = DEFAULT_GROUP_USER_ID
            message["from"] = self._ensure_user(user_id, username)
            chat.seen_users.add(user_id)
            kind = "message"
        self._messages[(chat.id, message["message_id"])] = _Stored(copy.deepcopy(message), False)
        return self._push_update(kind, message)

    def user_sends_document(
        self, chat_id: int, data: bytes, filename: str, mime_type: str, caption: str = "", **say: Any
    ) -> int:
        """The user sends a file (the bot may fetch it with getFile and ``base_file_url``)."""
        uploaded = self._new_file("document", filename, mime_type, data, None)
        return self.user_says(chat_id, caption, document=uploaded, **say)

    def share_chat(self, user_chat_id: int, request_id: int, chat_id: int) -> int:
        """The user taps the bot's chat-request button (``KeyboardButtonRequestChat``) and picks
        ``chat_id``; Telegram sends a ``chat_shared`` service message. As Telegram's client
        lists only chats that meet the request, picking one that does not is a test error."""
        user = self._known_chat(user_chat_id)
        buttons = [b for row in (user.keyboard or {}).get("keyboard", []) for b in row if isinstance(b, dict)]
        request = next(
            (b["request_chat"] for b in buttons if b.get("request_chat", {}).get("request_id") == request_id),
            None,
        )
        if user.type != "private" or request is None:
            raise AssertionError(
                f"chat {user_chat_id} shows no chat-request button with request_id {request_id}"
            )
        chat = self._known_chat(chat_id)
        if (chat.type == "channel") != request["chat_is_channel"]:
            raise AssertionError(f"chat {chat_id} is a {chat.type}: the request does not list it")
        me = self._member(chat, self.bot_id)
        if request.get("bot_is_member") and me["status"] in ("left", "kicked"):
            raise AssertionError(f"the bot is not a member of {chat_id}: the request does not list it")
        if "bot_administrator_rights" in request and not _has_rights(me, request["bot_administrator_rights"]):
            raise AssertionError(f"the bot lacks the requested rights in {chat_id}")
        if "user_administrator_rights" in request and not _has_rights(
            self._member(chat, user_chat_id), request["user_administrator_rights"]
        ):
            raise AssertionError(f"user {user_chat_id} lacks the requested rights in {chat_id}")
        shared: dict[str, Any] = {"request_id": request_id, "chat_id": chat_id}
        if request.get("request_title") and chat.title is not None:
            shared["title"] = chat.title
        if request.get("request_username") and chat.username is not None:
            shared["username"] = chat.username
        if user.keyboard is not None and user.keyboard.get("one_time_keyboard"):
            user.keyboard = None  # a one-time keyboard hides once used
        message = {
            "message_id": user.next_message_id(),
            "date": _now(),
            "chat": user.as_json(),
            "from": self._ensure_user(user_chat_id, None),
            "chat_shared": shared,
        }
        self._messages[(user.id, message["message_id"])] = _Stored(copy.deepcopy(message), False)
        return self._push_update("message", message)

    def keyboard_of(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard the user of a chat sees under the message field, if the bot set one."""
        return copy.deepcopy(self._known_chat(chat_id).keyboard)

    def buttons_of(self, chat_id: int, message_id: int) -> list[tuple[str, str]]:
        """(text, callback_data) of the inline buttons a bot's message shows now (after edits)."""
        stored = self._messages.get((chat_id, message_id))
        rows = ((stored.message if stored else {}).get("reply_markup") or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def user_message_ids(self, chat_id: int) -> list[int]:
        """Ids of the messages users (not the bot) wrote in the chat, oldest first."""
        return sorted(
            mid for (cid, mid), stored in self._messages.items() if cid == chat_id and not stored.from_bot
        )

    def press_button(self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None) -> int:
        """Queue a callback_query for an inline button on a message the bot sent."""
        stored = self._messages.get((chat_id, message_id))
        if stored is None or not stored.from_bot:
            raise AssertionError(f"the bot sent no message {message_id} to chat {chat_id}")
        rows = (stored.message.get("reply_markup") or {}).get("inline_keyboard", [])
        available = [b.get("callback_data") for row in rows for b in row]
        if data not in available:
            raise AssertionError(
                f"message {message_id} in chat {chat_id} has no button with callback_data "
                f"{data!r}; it has {available!r}"
            )
        chat = self._chats[chat_id]
        if chat.type == "private":
            user_id = chat_id
        elif user_id is None:
            user_id = DEFAULT_GROUP_USER_ID
        query_id = str(next(self._query_counter))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._ensure_user(user_id, None),
            "message": copy.deepcopy(stored.message),
            "chat_instance": str(int(hashlib.sha1(str(chat_id).encode()).hexdigest()[:12], 16)),
            "data": data,
        }
        return self._push_update("callback_query", query)

    # -- faults a test injects ---------------------------------------------------------------

    def block(self, chat_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot (or a group removes it): sends fail with 403 from now on.
        With ``notify`` Telegram tells the bot, as it does, with a ``my_chat_member`` update."""
        chat = self._known_chat(chat_id)
        chat.blocked = True
        self._bot_status(chat, "kicked", notify)

    def unblock(self, chat_id: int, *, notify: bool = True) -> None:
        """The user unblocks the bot (or a group adds it back)."""
        chat = self._known_chat(chat_id)
        chat.blocked = False
        self._bot_status(chat, "administrator" if chat.type == "channel" else "member", notify)

    def mute_bot(self, chat_id: int, *, notify: bool = False) -> None:
        """The group keeps the bot but takes its right to send messages."""
        chat = self._known_chat(chat_id)
        chat.bot_muted = True
        self._bot_status(chat, "restricted", notify)

    def forget(self, chat_id: int) -> None:
        """Telegram no longer knows the chat (deleted): everything about it is "chat not found"."""
        del self._chats[self._known_chat(chat_id).id]

    def flood(self, seconds: float, *, after_sends: int = 0) -> None:
        """For ``seconds`` every call about a chat answers 429 with the rest of the window as
        ``retry_after`` (rounded up: Telegram gives whole seconds). The window opens now, or
        once ``after_sends`` more messages have been accepted."""
        self._flood_seconds, self._flood_after = seconds, len(self.sent) + after_sends
        if after_sends == 0:
            self._flood_until = asyncio.get_running_loop().time() + seconds

    def hold_answers(self) -> None:
        """Carry out calls about chats but keep their answers until ``release_answers``, as a
        congested Telegram does: the senders' messages stay in flight meanwhile."""
        self._answers.clear()

    def release_answers(self) -> None:
        self._answers.set()

    def malformed_next(self, method: str) -> None:
        """Carry out the next call of ``method`` but answer ``ok`` with an empty result, as a
        broken proxy might: the client cannot read it (any exception, not a Telegram error)."""
        self._malformed.add(method.lower())

    def message_in_chat(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The message as the chat shows it now (edited, or None once deleted)."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored.message) if stored is not None else None

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Someone in the chat deletes a message (an admin tidying up, a user clearing the
        chat). Telegram does not tell the bot: it finds out when it edits or replies to it."""
        if self._messages.pop((chat_id, message_id), None) is None:
            raise AssertionError(f"chat {chat_id} has no message {message_id} to delete")

    def create_topic(self, chat_id: int, name: str) -> int:
        """Open a forum topic in a supergroup (made a forum); its id is its service message's."""
        chat = self._known_chat(chat_id)
        if chat.type != "supergroup":
            raise ValueError("only supergroups have topics")
        chat.is_forum = True
        thread_id = chat.next_message_id()
        chat.topics[thread_id] = name
        return thread_id

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a forum topic and, as Telegram does, every message in it."""
        del self._known_chat(chat_id).topics[thread_id]
        for key, stored in list(self._messages.items()):
            if key[0] == chat_id and stored.message.get("message_thread_id") == thread_id:
                del self._messages[key]

    def _bot_status(self, chat: _Chat, status: str, notify: bool) -> None:
        old, chat.bot_status = chat.bot_status, status
        if notify and old != status:
            change = {
                "chat": chat.as_json(),
                "from": self._ensure_user(chat.id if chat.type == "private" else DEFAULT_GROUP_USER_ID, None),
                "date": _now(),
                "old_chat_member": _chat_member(old, self._me, chat.type),
                "new_chat_member": _chat_member(status, self._me, chat.type),
            }
            self._push_update("my_chat_member", change)

    def migrate(self, chat_id: int, new_chat_id: int, *, notify: bool = False) -> None:
        """Upgrade a group to a supergroup: the old id then answers 400 + migrate_to_chat_id.

        With ``notify`` also queue the two service messages Telegram sends on an upgrade
        (``migrate_to_chat_id`` in the old chat, ``migrate_from_chat_id`` in the new one).
        """
        old = self._known_chat(chat_id)
        if old.type != "group":
            raise ValueError("only a basic group can be upgraded to a supergroup")
        if not str(new_chat_id).startswith("-100"):
            raise ValueError("supergroup ids look like -100xxxxxxxxxx")
        new = self._ensure_chat(new_chat_id, "supergroup", title=old.title, username=None)
        new.statuses.update(old.statuses)
        new.seen_users |= old.seen_users
        new.explicit_admins = old.explicit_admins
        old.migrated_to = new_chat_id
        if notify:
            for chat, key, value in (
                (old, "migrate_to_chat_id", new_chat_id),
                (new, "migrate_from_chat_id", chat_id),
            ):
                service = {
                    "message_id": chat.next_message_id(),
                    "date": _now(),
                    "chat": chat.as_json(),
                    "from": self._ensure_user(DEFAULT_GROUP_USER_ID, None),
                    key: value,
                }
                self._push_update("message", service)

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail as given.

        A 429 without ``retry_after`` gets one taken from "retry after N" in the description
        (else 1), since Telegram always sends it and PTB needs it to raise RetryAfter.
        """
        params = dict(parameters or {})
        if error_code == 429 and "retry_after" not in params:
            found = re.search(r"retry after (\d+)", description)
            params["retry_after"] = int(found.group(1)) if found else 1
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(ApiError(error_code, description, params or None) for _ in range(count))

    def gateway_down(self, method: str, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` get Telegram's 502 Bad Gateway HTML page."""
        self._faults.setdefault(method.lower(), deque()).extend(GatewayError() for _ in range(count))

    def revoke_token(self) -> None:
        """The owner revoked the token in @BotFather: every call answers 401 Unauthorized."""
        self._revoked = True

    def answer_late(self, method: str, seconds: float, count: int = 1) -> None:
        """Carry out the next ``count`` calls of ``method`` at once but answer ``seconds`` later,
        as Telegram does when it is slow: a client that times out has still sent the message."""
        self._slow.setdefault(method.lower(), deque()).extend([seconds] * count)

    def set_chat_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Fix what getChatMember answers for one user ("creator", "administrator", ...)."""
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"status must be one of {sorted(_MEMBER_STATUSES)}")
        self._known_chat(chat_id).statuses[user_id] = status
        self._ensure_user(user_id, None)

    def set_chat_admins(
        self, chat_id: int, admin_ids: Iterable[int], *, creator_id: int | None = None
    ) -> None:
        """Name the chat's admins; every other user who spoke there becomes a plain member."""
        chat = self._known_chat(chat_id)
        chat.explicit_admins = True
        chat.statuses = {
            uid: status for uid, status in chat.statuses.items() if status not in ("administrator", "creator")
        }
        for uid in admin_ids:
            self.set_chat_member(chat_id, uid, "administrator")
        if creator_id is not None:
            self.set_chat_member(chat_id, creator_id, "creator")

    # -- refusals a test did not expect ------------------------------------------------------

    def expect_parse_refusals(self, count: int = 1) -> None:
        """This test provokes ``count`` "can't parse entities" refusals on purpose."""
        self._parse_refusals_expected += count

    def unexpected_refusals(self) -> list[str]:
        """Refused HTML beyond what the test expected: a bug the plain-text fallback hides
        (the message still arrives, and ``wait_for(contains=...)`` matches its plain text)."""
        refused = [f"{m}: {d}" for m, _code, d in self.failures if "can't parse entities" in d]
        return refused[self._parse_refusals_expected :]

    # -- what the bot sent -------------------------------------------------------------------

    def calls_to(self, chat_id: int, *methods: str, after: int = 0) -> list[dict[str, Any]]:
        """Parameters of every call about ``chat_id`` from index ``after`` of ``requests``,
        accepted or refused (``sent`` holds only what was accepted: a blocked chat's refused
        sends are only here)."""
        wanted = {m.lower() for m in methods}
        return [
            params
            for method, params in self.requests[after:]
            if params.get("chat_id") == chat_id and (not wanted or method.lower() in wanted)
        ]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    async def wait_for(
        self,
        chat_id: int | None = None,
        *,
        contains: str | None = None,
        predicate: Callable[[SentMessage], bool] | None = None,
        method: str | None = None,
        timeout: float = 10.0,
        after: int = 0,
    ) -> SentMessage:
        """Wait for a message at index >= ``after`` of ``sent`` that matches every filter.

        ``contains`` matches the text as sent (raw HTML) or as the user sees it. On timeout
        the AssertionError lists what was sent and what the fake refused, which is usually
        the whole story of a failing test.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        checked = after
        while True:
            for message in self.sent[checked:]:
                if _matches(message, chat_id, contains, predicate, method):
                    return message
            checked = max(checked, len(self.sent))
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise AssertionError(
                    self._describe_miss(chat_id, contains, predicate, method, after, timeout)
                )
            await self._sent_signal.wait(remaining)

    async def wait_for_callback_answer(self, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the bot has answered ``count`` button presses; return the last answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.callback_answers) < count:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise AssertionError(
                    f"{len(self.callback_answers)} of {count} button presses answered within {timeout}s; "
                    f"refused: {self.failures[-10:]}"
                )
            await self._sent_signal.wait(remaining)
        return self.callback_answers[count - 1]

    async def ask(
        self,
        chat_id: int,
        text: str,
        *,
        contains: str | None = None,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 10.0,
        **say: Any,
    ) -> SentMessage:
        """Say ``text`` in the chat and return the bot's next message there."""
        after = len(self.sent)
        self.user_says(chat_id, text, **say)
        return await self.wait_for(
            chat_id, contains=contains, predicate=predicate, timeout=timeout, after=after
        )

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet acknowledged by a getUpdates offset (or delivered to a webhook)."""
        return copy.deepcopy(self._updates)

    def _describe_miss(
        self,
        chat_id: int | None,
        contains: str | None,
        predicate: Callable[[SentMessage], bool] | None,
        method: str | None,
        after: int,
        timeout: float,
    ) -> str:
        wanted = ", ".join(
            f"{k}={v!r}"
            for k, v in (
                ("chat_id", chat_id),
                ("contains", contains),
                ("predicate", predicate),
                ("method", method),
            )
            if v is not None
        )
        lines = [f"no message matching {wanted or 'anything'} within {timeout}s (after={after})"]
        lines.append(f"sent ({len(self.sent)}):")
        lines += [f"  [{i}] {m}" for i, m in enumerate(self.sent)][-30:] or ["  (nothing)"]
        if self.failures:
            lines.append("refused by the fake:")
            lines += [f"  {m}: {code} {desc}" for m, code, desc in self.failures[-10:]]
        return "\n".join(lines)

    # -- HTTP plumbing -----------------------------------------------------------------------

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Turn any crash of the fake into a 500 answer (and a log line) instead of a hang."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status == 404:
                return _json(ApiError(404, "Not Found").payload(), 404)
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            method = request.match_info.get("method", request.path.rsplit("/", 1)[-1])
            log.exception("fake Telegram crashed on %s", method)
            return _json(ApiError(500, f"Internal Server Error: {exc!r}").payload(), 500)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token or self._revoked:
            self.failures.append((method, 401, "Unauthorized"))
            return _json(ApiError(401, "Unauthorized").payload(), 401)
        try:
            params, files = await _read_params(request)
            self.requests.append((method, {**params, **files}))
            now = asyncio.get_running_loop().time()
            self.request_times.append(now)
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            if "chat_id" in params and now < self._flood_until:
                retry_after = math.ceil(self._flood_until - now)
                self.flood_answers.append((now, retry_after))
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
                )
            faults = self._faults.get(method.lower())
            if faults:
                raise faults.popleft()
            if method.lower() in SEND_METHODS and "chat_id" in params:
                self._check_send_limits(method, params["chat_id"], now)
            result = await handler(params, files)
            if method.lower() in SEND_METHODS and "chat_id" in params:
                self._posted.append((now, result.get("chat", {}).get("id", params["chat_id"])))
            if method.lower() in self._malformed:
                self._malformed.discard(method.lower())
                result = {}
            if self._flood_after >= 0 and len(self.sent) >= self._flood_after:
                self._flood_until, self._flood_after = now + self._flood_seconds, -1
            if "chat_id" in params:
                await self._answers.wait()
            slow = self._slow.get(method.lower())
            if slow:  # done, but the answer is late: the client may give up before it comes
                await asyncio.sleep(slow.popleft())
        except ApiError as exc:
            self.failures.append((method, exc.error_code, exc.description))
            if isinstance(exc, GatewayError):
                return web.Response(text=exc.PAGE, status=502, content_type="text/html")
            return _json(exc.payload(), exc.error_code)
        return _json({"ok": True, "result": result}, 200)

    def _check_send_limits(self, method: str, chat_id: Any, now: float) -> None:
        """429 + retry_after when this post would go past one of ``limits``' windows."""
        if self.limits is None:
            return
        longest = max(self.limits.per_chat[1], self.limits.per_group[1], self.limits.overall[1])
        while self._posted and self._posted[0][0] <= now - longest:
            self._posted.popleft()
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        group = chat is not None and chat.type != "private"
        windows = [
            (self.limits.per_group if group else self.limits.per_chat, chat_id),
            (self.limits.overall, None),
        ]
        for (count, seconds), only in windows:
            times = [t for t, c in self._posted if t > now - seconds and (only is None or c == only)]
            if len(times) >= count:
                retry_after = max(1, math.ceil(times[-count] + seconds - now))
                self.rate_limited.append((method, chat_id, retry_after))
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
                )

    # -- shared pieces of the methods ----------------------------------------------------------

    @property
    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Redline Test",
            "username": self.bot_username,
        }

    def _ensure_chat(
        self, chat_id: int, chat_type: str | None, *, title: str | None, username: str | None
    ) -> _Chat:
        if chat_type is not None and chat_type not in _CHAT_TYPES:
            raise ValueError(f"chat_type must be one of {sorted(_CHAT_TYPES)}")
        chat = self._chats.get(chat_id)
        if chat is not None:
            if chat_type is not None and chat_type != chat.type:
                raise ValueError(f"chat {chat_id} is a {chat.type}, not a {chat_type}")
            return chat
        if chat_type is None:
            if chat_id > 0:
                chat_type = "private"
            else:
                chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        if (chat_type == "private") != (chat_id > 0):
            raise ValueError("private chats have positive ids, groups and channels negative")
        chat = _Chat(chat_id, chat_type, username=username)
        if chat_type == "private":
            chat.first_name = f"User{chat_id}"
        else:
            chat.title = title or f"Test {chat_type} {chat_id}"
        self._chats[chat_id] = chat
        return chat

    def _known_chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} is unknown; use user_says() or add_chat() first")
        return chat

    def _ensure_user(self, user_id: int, username: str | None) -> dict[str, Any]:
        user = self._users.get(user_id)
        if user is None:
            name = username or f"user{user_id}"
            user = {"id": user_id, "is_bot": False, "first_name": name.capitalize()}
            if username:
                user["username"] = username
            self._users[user_id] = user
        return copy.deepcopy(user)

    def _detect_entities(self, text: str) -> list[dict[str, Any]]:
        """The entities Telegram's clients attach to what a user types."""
        entities: list[dict[str, Any]] = []
        command = _BOT_COMMAND.match(text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command[0])})
        for url in _URL.finditer(text):
            entities.append(
                {
                    "type": "url",
                    "offset": utf16_len(text[: url.start()]),
                    "length": utf16_len(url[0]),
                }
            )
        return entities

    def _push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self._updates_signal.notify()
        return update_id

    def _chat(self, params: dict[str, Any], *, sending: bool = False) -> _Chat:
        """Resolve chat_id like Telegram: unknown → 400, upgraded → 400 + new id, blocked → 403."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        chat: _Chat | None = None
        if isinstance(raw, int):
            chat = self._chats.get(raw)
        elif isinstance(raw, str) and raw.startswith("@"):
            chat = next((c for c in self._chats.values() if c.username == raw[1:]), None)
        if chat is None:
            raise _bad_request("chat not found")
        if chat.migrated_to is not None:
            raise _bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if sending and chat.blocked:
            raise ApiError(403, _BLOCKED_DESCRIPTIONS[chat.type])
        if sending and chat.bot_muted:
            raise _bad_request("not enough rights to send text messages to the chat")
        if sending and params.get("message_thread_id") is not None:
            thread = params["message_thread_id"]
            if not chat.is_forum or thread not in chat.topics:
                raise _bad_request("message thread not found")
        return chat

    def _format(self, text: str, parse_mode: str | None, entities: Any) -> tuple[ParsedText, int]:
        """Visible text + entities (cut at MAX_ENTITIES) and the count before the cut."""
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                parsed = parse_telegram_html(text, strict_ampersand=self.strict_ampersand)
            except EntityParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is not validated by the fake; our bot sends HTML.
            parsed = ParsedText(text, list(entities) if isinstance(entities, list) else [])
        else:
            raise _bad_request("unsupported parse_mode")
        count = len(parsed.entities)
        return ParsedText(parsed.text, parsed.entities[:MAX_ENTITIES]), count

    def _checked_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        kinds = [k for k in ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply") if k in markup]
        if len(kinds) != 1:
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "keyboard" in markup:
            _check_reply_keyboard(markup["keyboard"])
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
                if len(button) == 1 and "text" in button:
                    raise _bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
        return markup

    def _reply_target(self, chat: _Chat, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message being replied to; a missing one is an error unless allowed."""
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {"message_id": params["reply_to_message_id"]}
        if not isinstance(reply, dict) or not reply.get("message_id"):
            return None
        replied = self._messages.get((chat.id, int(reply["message_id"])))
        if replied is not None:
            return copy.deepcopy(replied.message)
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise _bad_request("message to be replied not found")

    def _store_bot_message(
        self, chat: _Chat, content: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate the rest of the request, then give the message the chat's next id."""
        markup = self._checked_markup(params)
        replied = self._reply_target(chat, params)
        message: dict[str, Any] = {
            "message_id": chat.next_message_id(),
            "date": _now(),
            "chat": chat.as_json(),
        }
        if chat.type == "channel":
            message["sender_chat"] = chat.as_json()
        else:
            message["from"] = self._me
        if replied is not None:
            message["reply_to_message"] = replied
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
            message["is_topic_message"] = True
        message.update(content)
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        elif markup and "keyboard" in markup:
            chat.keyboard = copy.deepcopy(markup)
        elif markup and "remove_keyboard" in markup:
            chat.keyboard = None
        self._messages[(chat.id, message["message_id"])] = _Stored(copy.deepcopy(message), True)
        return message

    def _record(
        self,
        method: str,
        chat: _Chat,
        message: dict[str, Any],
        params: dict[str, Any],
        *,
        raw_text: str,
        parsed: ParsedText,
        entities_count: int,
        file: UploadedFile | None = None,
    ) -> None:
        preview = params.get("link_preview_options")
        self.sent.append(
            SentMessage(
                chat_id=chat.id,
                text=raw_text,
                parse_mode=params.get("parse_mode"),
                link_preview_disabled=bool(
                    (isinstance(preview, dict) and preview.get("is_disabled"))
                    or params.get("disable_web_page_preview")
                ),
                reply_markup=message.get("reply_markup"),
                message_id=message["message_id"],
                method=method,
                params=params,
                plain_text=parsed.text,
                entities=parsed.entities,
                entities_count=entities_count,
                file=file,
                at=asyncio.get_running_loop().time(),
            )
        )
        self._sent_signal.notify()

    # -- methods: bot and updates --------------------------------------------------------------

    async def _get_me(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> dict[str, Any]:
        return {
            **self._me,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(
        self, params: dict[str, Any], files: dict[str, UploadedPart]
    ) -> list[dict[str, Any]]:
        """Long polling: hold the request until an update arrives or ``timeout`` passes."""
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        # Telegram answers an older pending getUpdates with 409 when a newer one arrives.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing:
                return []
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - loop.time()
            if self._updates or remaining <= 0:
                return copy.deepcopy(self._updates[:limit])
            await self._updates_signal.wait(remaining)

    async def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> bool:
        """Accept http:// too (tests serve the webhook on 127.0.0.1) and push updates to it."""
        url = params.get("url", "")
        if not url:
            return await self._delete_webhook(params, files)
        if not re.match(r"https?://[^/\s]+", url):
            raise _bad_request("bad webhook: invalid webhook URL specified")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook_url = url
        self._webhook_secret = params.get("secret_token")
        self._webhook_error = None
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        self._updates_signal.notify()
        return True

    async def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> bool:
        self._webhook_url = ""
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _deliver_to_webhook(self) -> None:
        """POST pending updates one by one, in order, retrying like Telegram (but faster)."""
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while self._webhook_url and not self._closing:
                if not self._updates:
                    await self._updates_signal.wait(None)
                    continue
                update = self._updates[0]
                headers = {}
                if self._webhook_secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
                try:
                    async with session.post(self._webhook_url, json=update, headers=headers) as r:
                        delivered = 200 <= r.status < 300
                        error = f"Wrong response from the webhook: {r.status} {r.reason}"
                except (ClientError, TimeoutError) as exc:
                    delivered, error = False, f"Connection failed: {exc!r}"
                if delivered:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                else:
                    self._webhook_error = (_now(), error)
                    await asyncio.sleep(self.webhook_retry_delay)

    def menu(self, scope: str = "default", **fields: Any) -> list[dict[str, Any]]:
        """The command menu set for a scope ("all_group_chats", "chat" with chat_id=…)."""
        return self.command_menus.get(_scope_key({"type": scope, **fields}), [])

    async def _set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        if len(commands) > MAX_COMMANDS:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._checked_scope(params)
        self.command_menus[key] = commands
        if key == "default":
            self.commands = commands
        return True

    async def _get_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedPart]
    ) -> list[dict[str, Any]]:
        return self.command_menus.get(self._checked_scope(params), [])

    def _checked_scope(self, params: dict[str, Any]) -> str:
        """The scope's key in ``command_menus``; a scope of an unknown type, or without the
        chat it names, is refused."""
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
            raise _bad_request("can't parse BotCommandScope JSON object")
        for name in _SCOPES[scope["type"]]:
            if scope.get(name) in (None, ""):
                raise _bad_request(f"{name} is empty")
        if "chat_id" in scope:
            self._chat({"chat_id": scope["chat_id"]})
        return _scope_key(scope)

    async def _set_my_description(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> bool:
        text = str(params.get("description") or "")
        if len(text) > MAX_DESCRIPTION_LENGTH:
            raise _bad_request("description is too long")
        self.description = text
        return True

    async def _set_my_short_description(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> bool:
        text = str(params.get("short_description") or "")
        if len(text) > MAX_SHORT_DESCRIPTION_LENGTH:
            raise _bad_request("short description is too long")
        self.short_description = text
        return True

    # -- methods: messages -------------------------------------------------------------------

    async def _send_message(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> dict[str, Any]:
        chat = self._chat(params, sending=True)
        parsed, count = self._checked_text(params, too_long="message is too long")
        text = params["text"]
        content: dict[str, Any] = {"text": parsed.text}
        if parsed.entities:
            content["entities"] = parsed.entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        message = self._store_bot_message(chat, content, params)
        self._record(
            "sendMessage",
            chat,
            message,
            params,
            raw_text=str(text),
            parsed=parsed,
            entities_count=count,
        )
        return message

    def _checked_text(self, params: dict[str, Any], *, too_long: str) -> tuple[ParsedText, int]:
        """The message text parsed as Telegram would, refused as Telegram refuses it
        (the two methods word "too long" differently)."""
        text = params.get("text")
        if not text:
            raise _bad_request("message text is empty")
        parsed, count = self._format(str(text), params.get("parse_mode"), params.get("entities"))
        if not parsed.text.strip():
            raise _bad_request("message text is empty")
        if utf16_len(parsed.text) > MAX_MESSAGE_LENGTH:
            raise _bad_request(too_long)
        return parsed, count

    def _target(self, params: dict[str, Any], action: str) -> tuple[_Chat, _Stored]:
        """The chat and stored message a call names; refused as Telegram does when it is gone."""
        chat = self._chat(params, sending=True)
        message_id = params.get("message_id")
        if not message_id:
            raise _bad_request("message identifier is not specified")
        stored = self._messages.get((chat.id, message_id))
        if stored is None:
            raise _bad_request(f"message to {action} not found")
        return chat, stored

    def _editable(self, params: dict[str, Any]) -> tuple[_Chat, _Stored]:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")  # the fake knows no inline messages
        chat, stored = self._target(params, "edit")
        if not stored.from_bot:
            raise _bad_request("message can't be edited")
        return chat, stored

    async def _edit_message_text(
        self, params: dict[str, Any], files: dict[str, UploadedPart]
    ) -> dict[str, Any]:
        chat, stored = self._editable(params)
        if "text" not in stored.message:
            raise _bad_request("there is no text in the message to edit")
        parsed, count = self._checked_text(params, too_long="MESSAGE_TOO_LONG")
        text = params["text"]
        markup = self._checked_markup(params)
        new = copy.deepcopy(stored.message)
        new["text"] = parsed.text
        new.pop("entities", None)
        if parsed.entities:
            new["entities"] = parsed.entities
        new.pop("reply_markup", None)
        if markup and "inline_keyboard" in markup:
            new["reply_markup"] = markup
        self._replace(chat, stored, new)
        self._record(
            "editMessageText",
            chat,
            new,
            params,
            raw_text=str(text),
            parsed=parsed,
            entities_count=count,
        )
        return new

    async def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> bool:
        chat, stored = self._target(params, "delete")
        if not stored.from_bot and chat.type == "private":
            raise _bad_request("message can't be deleted for everyone")
        del self._messages[(chat.id, params["message_id"])]
        return True

    async def _edit_message_reply_markup(
        self, params: dict[str, Any], files: dict[str, UploadedPart]
    ) -> dict[str, Any]:
        chat, stored = self._editable(params)
        markup = self._checked_markup(params)
        new = copy.deepcopy(stored.message)
        new.pop("reply_markup", None)
        if markup and "inline_keyboard" in markup:
            new["reply_markup"] = markup
        self._replace(chat, stored, new)
        return new

    def _replace(self, chat: _Chat, stored: _Stored, new: dict[str, Any]) -> None:
        def content(message: dict[str, Any]) -> tuple[Any, ...]:
            return tuple(message.get(k) for k in ("text", "entities", "caption", "reply_markup"))

        if content(new) == content(stored.message):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        new["edit_date"] = _now()
        stored.message = copy.deepcopy(new)

    async def _answer_callback_query(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text") or "") > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers.append(params)
        self._sent_signal.notify()
        return True

    # -- methods: chats ----------------------------------------------------------------------

    def _status(self, chat: _Chat, user_id: int) -> str:
        """Explicit status, else: the bot admins channels; people who spoke admin groups."""
        if user_id in chat.statuses:
            return chat.statuses[user_id]
        if user_id == self.bot_id:
            return "administrator" if chat.type == "channel" else "member"
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        if user_id in chat.seen_users:
            return "member" if chat.explicit_admins else "administrator"
        return "left"

    def _member(self, chat: _Chat, user_id: int) -> dict[str, Any]:
        user = self._me if user_id == self.bot_id else self._ensure_user(user_id, None)
        return _chat_member(self._status(chat, user_id), user, chat.type)

    async def _get_chat_member(
        self, params: dict[str, Any], files: dict[str, UploadedPart]
    ) -> dict[str, Any]:
        chat = self._chat(params)
        user_id = params.get("user_id")
        if user_id is None:
            raise _bad_request("user_id is empty")
        if user_id != self.bot_id and user_id not in self._users:
            raise _bad_request("user not found")
        return self._member(chat, user_id)

    async def _get_chat_administrators(
        self, params: dict[str, Any], files: dict[str, UploadedPart]
    ) -> list[dict[str, Any]]:
        chat = self._chat(params)
        if chat.type == "private":
            raise _bad_request("there are no administrators in the private chat")
        candidates = [self.bot_id, *sorted(chat.seen_users | set(chat.statuses))]
        members = [self._member(chat, uid) for uid in dict.fromkeys(candidates)]
        return [m for m in members if m["status"] in ("creator", "administrator")]

    # -- methods: files ----------------------------------------------------------------------

    async def _get_file(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> dict[str, Any]:
        uploaded = self._files.get(str(params.get("file_id", "")))
        if uploaded is None or uploaded.data is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "file_size": len(uploaded.data),
            "file_path": uploaded.file_path,
        }

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """``base_file_url``/<file_path>: the bytes of a file getFile named."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        found = next((f for f in self._files.values() if f.file_path == path and f.data is not None), None)
        if found is None or found.data is None:
            return web.Response(status=404)
        return web.Response(body=found.data)

    async def _send_document(self, params: dict[str, Any], files: dict[str, UploadedPart]) -> dict[str, Any]:
        return await self._send_file("sendDocument", "document", params, files)

    async def _send_file(
        self, method: str, kind: str, params: dict[str, Any], files: dict[str, UploadedPart]
    ) -> dict[str, Any]:
        chat = self._chat(params, sending=True)
        uploaded = self._take_file(kind, params, files)
        caption = str(params.get("caption") or "")
        parsed, count = self._format(caption, params.get("parse_mode"), params.get("caption_entities"))
        if utf16_len(parsed.text) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        size = len(uploaded.data) if uploaded.data is not None else 0
        document: dict[str, Any] = {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "file_size": size,
        }
        if uploaded.filename:
            document["file_name"] = uploaded.filename
        if uploaded.mime_type:
            document["mime_type"] = uploaded.mime_type
        content: dict[str, Any] = {"document": document}
        if parsed.text:
            content["caption"] = parsed.text
            if parsed.entities:
                content["caption_entities"] = parsed.entities
        message = self._store_bot_message(chat, content, params)
        self._record(
            method,
            chat,
            message,
            params,
            raw_text=caption,
            parsed=parsed,
            entities_count=count,
            file=uploaded,
        )
        return message

    def _take_file(self, kind: str, params: dict[str, Any], files: dict[str, UploadedPart]) -> UploadedFile:
        """The uploaded part, an attach:// reference, a known file_id or an HTTP URL."""
        value: Any = files.get(kind, params.get(kind))
        if isinstance(value, str) and value.startswith("attach://"):
            value = files.get(value.removeprefix("attach://"))
        if value is None:
            raise _bad_request(f"there is no {kind} in the request")
        if isinstance(value, UploadedPart):
            if not value.data:
                raise _bad_request("file must be non-empty")
            return self._new_file(kind, value.filename, value.content_type, value.data, None)
        if value in self._files:
            return self._files[value]
        if re.match(r"https?://", str(value)):
            return self._new_file(kind, None, None, None, str(value))
        raise _bad_request("wrong file identifier/HTTP URL specified")

    def _new_file(
        self,
        kind: str,
        filename: str | None,
        mime_type: str | None,
        data: bytes | None,
        url: str | None,
    ) -> UploadedFile:
        number = next(self._file_counter)
        suffix = f".{filename.rsplit('.', 1)[-1]}" if filename and "." in filename else ""
        uploaded = UploadedFile(
            file_id=f"fake-{kind}-{number}",
            file_unique_id=f"u{number}",
            file_path=f"{kind}s/file_{number}{suffix}",
            filename=filename,
            mime_type=mime_type,
            data=data,
            url=url,
        )
        self._files[uploaded.file_id] = uploaded
        return uploaded


# ---------------------------------------------------------------------------------------------
# Small pure helpers
# ---------------------------------------------------------------------------------------------


def _scope_key(scope: dict[str, Any]) -> str:
    return "default" if scope == {"type": "default"} else json.dumps(scope, sort_keys=True)


def _json(body: dict[str, Any], status: int) -> web.Response:
    return web.json_response(body, status=status)


def _matches(
    message: SentMessage,
    chat_id: int | None,
    contains: str | None,
    predicate: Callable[[SentMessage], bool] | None,
    method: str | None,
) -> bool:
    if chat_id is not None and message.chat_id != chat_id:
        return False
    if method is not None and message.method != method:
        return False
    if contains is not None and contains not in message.text and contains not in message.plain_text:
        return False
    return predicate is None or predicate(message)


_ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories",
)  # fmt: skip
_RESTRICTED_FLAGS = (
    "can_change_info", "can_invite_users", "can_pin_messages", "can_send_messages",
    "can_send_polls", "can_send_other_messages", "can_add_web_page_previews",
    "can_manage_topics", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_edit_tag",
    "can_react_to_messages",
)  # fmt: skip


_CHAT_REQUEST_FIELDS = {
    "request_id": int, "chat_is_channel": bool, "chat_is_forum": bool, "chat_has_username": bool,
    "chat_is_created": bool, "user_administrator_rights": dict, "bot_administrator_rights": dict,
    "bot_is_member": bool, "request_title": bool, "request_username": bool, "request_photo": bool,
}  # fmt: skip
_BUTTON_KINDS = (
    "request_users", "request_chat", "request_contact", "request_location", "request_poll", "web_app",
)  # fmt: skip


def _check_reply_keyboard(rows: Any) -> None:
    """A ReplyKeyboardMarkup as Telegram checks it: rows of buttons, each with a text and at
    most one special kind; a chat request carries a signed 32-bit request_id and typed fields."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, list) and r for r in rows):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if isinstance(button, str):
                continue
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise _bad_request("can't parse keyboard button: Text must be non-empty")
            if sum(kind in button for kind in _BUTTON_KINDS) > 1:
                raise _bad_request("can't parse keyboard button: more than one button kind")
            request = button.get("request_chat")
            if request is None:
                continue
            if not isinstance(request, dict) or "chat_is_channel" not in request:
                raise _bad_request(
                    'can\'t parse keyboard button: Field "chat_is_channel" must be of type Boolean'
                )
            for key, value in request.items():
                kind = _CHAT_REQUEST_FIELDS.get(key)
                if kind is None or type(value) is not kind:
                    raise _bad_request(f'can\'t parse keyboard button: bad field "{key}"')
            if not -(2**31) <= request.get("request_id", 2**31) < 2**31:
                raise _bad_request("REQUEST_ID_INVALID")


def _has_rights(member: dict[str, Any], rights: dict[str, Any] | None) -> bool:
    """Whether an administrator (or the owner) holds every right a chat request asks for."""
    if member["status"] == "creator":
        return True
    if member["status"] != "administrator":
        return False
    return all(member.get(key, False) for key, wanted in (rights or {}).items() if wanted is True)


def _chat_member(status: str, user: dict[str, Any], chat_type: str) -> dict[str, Any]:
    """A ChatMember with every field PTB requires for that status."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(can_be_edited=False, is_anonymous=False, can_promote_members=False)
        member.update(dict.fromkeys(_ADMIN_RIGHTS, True))
        if chat_type == "channel":
            member.update(can_post_messages=True, can_edit_messages=True)
        else:
            member["can_pin_messages"] = True
    elif status == "restricted":
        member.update(dict.fromkeys(_RESTRICTED_FLAGS, False), is_member=True, until_date=0)
    elif status == "kicked":
        member["until_date"] = 0
    return member
