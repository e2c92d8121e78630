"""The web addresses of history pages, outlet pages and feeds: defined here once, for the web
server's routes and for every link Telegram messages and pages carry.

Public addresses (``web.public_articles``) are ``/a/N``, ``/a/N/feed.atom`` and ``/s/SITE``;
the same under ``/c/TOKEN`` are a chat's, open to whoever holds its token, and
``/c/TOKEN/feed.atom`` is the chat's feed. An address never names a chat, only its token.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["ARTICLE", "ARTICLE_FEED", "CHAT", "CHAT_FEED", "OUTLET", "WebLinks"]

# aiohttp route patterns; WebLinks fills them in
CHAT = "/c/{token}"
ARTICLE = "/a/{article:\\d+}"
ARTICLE_FEED = "/a/{article:\\d+}/feed.atom"
OUTLET = "/s/{site}"
CHAT_FEED = "/feed.atom"


@dataclass(frozen=True)
class WebLinks:
    """Addresses under ``root`` (``https://host``; "" for site-relative ones), a chat's when
    ``token`` is given, public ones otherwise."""

    root: str
    token: str | None = None

    @property
    def base(self) -> str:
        return f"{self.root}/c/{self.token}" if self.token else self.root

    def article(self, article_id: int, version: int | None = None) -> str:
        anchor = f"#v{version}" if version is not None else ""
        return f"{self.base}/a/{article_id}{anchor}"

    def article_feed(self, article_id: int) -> str:
        return f"{self.base}/a/{article_id}/feed.atom"

    def outlet(self, site: str) -> str:
        return f"{self.base}/s/{quote(site, safe='')}"

    def chat_feed(self) -> str:
        if not self.token:
            raise ValueError("a chat's feed needs the chat's token")
        return f"{self.base}/feed.atom"
