"""Reading a page: fetch → fingerprint → extract, the steps /track and every check share.

Each step stops as early as it can say "nothing new" (a 304, the same bytes, the same
fingerprint), so the expensive extraction runs only on a page that may have changed. Parsing
(fingerprint and extraction) runs on the process's one parse thread (bot.service.parse_thread).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.extract import Snapshot, declared_url
from bot.core.fingerprint import fingerprint
from bot.core.policy import Outcome
from bot.net.fetch import Fetcher, Page
from bot.net.urls import article_url
from bot.service.parse_thread import ParseThread
from bot.storage.articles import PageMeta


@dataclass(frozen=True)
class PageRead:
    """One page read as far as it needed to be.

    ``unchanged`` names the cheap path that stopped it (not modified, same bytes, same
    fingerprint) and then ``snapshot`` is None; otherwise ``snapshot`` is the extracted page.
    """

    page: Page
    fingerprint: str | None
    snapshot: Snapshot | None
    unchanged: Outcome | None = None


class PageReader:
    """The network edge and the parse thread, behind the two calls a use case makes."""

    def __init__(self, fetcher: Fetcher, parser: ParseThread) -> None:
        self.fetcher = fetcher
        self.parser = parser

    async def fetch(self, url: str, last: PageMeta | None = None) -> Page:
        """The page at ``url`` (a conditional GET when ``last`` knows its validators).

        Raises ``bot.net.fetch.FetchError`` (with a ``user_message``) when it cannot be read.
        """
        if last is None:
            return await self.fetcher.fetch(url)
        return await self.fetcher.fetch(url, etag=last.etag, last_modified=last.last_modified)

    async def read(
        self,
        page: Page,
        last: PageMeta | None = None,
        carrier: str | None = None,
        printed: str | None = None,
    ) -> PageRead:
        """Fingerprint and extract ``page`` unless it is the page ``last`` describes; the
        headline is read from ``carrier`` (``Snapshot.carrier`` of the article's first read).
        ``printed``: the page's fingerprint when the caller has it already (``named``).

        Raises ``bot.core.extract.NotAnArticle`` when the changed page has no article in it.
        """
        if page.not_modified:
            return PageRead(page, None, None, Outcome.NOT_MODIFIED)
        if same_page(page, last):
            return PageRead(page, None, None, Outcome.BODY_SAME)
        if printed is None:
            printed = await self.parser.run(fingerprint, page.html)
        if last is not None and printed == last.fingerprint:
            return PageRead(page, printed, None, Outcome.FINGERPRINT_SAME)
        snapshot = await self.parser.extract(page.html, page.url, carrier)
        return PageRead(page, printed, snapshot)

    async def named(self, page: Page) -> str:
        """The URL that names the article on ``page`` (bot.net.urls.article_url): its trusted
        canonical link, else where it was served. A 304 has no head to read: where it was served."""
        declared = await self.parser.run(declared_url, page.html) if page.html else None
        return article_url(page.url, declared)

    async def declared(self, page: Page, last: PageMeta | None) -> tuple[str | None, str | None]:
        """The address ``page`` gives itself (``declared_url``), and its fingerprint when ``read``
        will need one (the page is not the one ``last`` describes): one trip to the parse thread."""
        if not page.html:
            return None, None
        if same_page(page, last):
            return await self.parser.run(declared_url, page.html), None
        return await self.parser.run(_declared_and_fingerprint, page.html)


def same_page(page: Page, last: PageMeta | None) -> bool:
    """The very bytes ``last`` was read from (nothing to fingerprint or extract)."""
    return last is not None and bool(page.body_hash) and page.body_hash == last.body_hash


def _declared_and_fingerprint(html: str) -> tuple[str | None, str]:
    return declared_url(html), fingerprint(html)


async def fetch_source(
    reader: PageReader, url: str, etag: str | None = None, last_modified: str | None = None
) -> Page:
    """A followed source (a feed, or a page that may name one): the guarded fetcher, with
    RSS/Atom/XML answers allowed besides HTML."""
    return await reader.fetcher.fetch(url, etag=etag, last_modified=last_modified, feeds=True)
