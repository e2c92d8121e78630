"""History pages as a reader's phone shows them: served by the bot's web server, opened in
headless Chromium at 390 px with JavaScript off, and every change of every version looked for
in what the browser renders — Latin, Arabic and Chinese articles from the corpus."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import ClientSession

from bot.core.diff import Change, diff_snapshots
from bot.storage.store import Storage
from tests.phone import PHONE, read_as_phone
from tests.test_core_record import BASE, EDITS
from tests.test_document import changed_runs, words
from tests.web_history import add_history, base_url, corpus_history, serving

CHAT = 1001


def _text_of(change: Change, side: str) -> str:
    return words(change.old if side == "old" else change.new)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("slug", ["guardian", "cnn-arabic", "xinhua"])
async def test_history_page_shows_every_version_pair_on_a_phone_without_javascript(
    store: Storage, slug: str
) -> None:
    url, versions = corpus_history(slug)
    article = add_history(store, CHAT, url, versions)
    token = store.chats.web_token(CHAT)
    async with serving(store) as server:
        page = f"{base_url(server)}/c/{token}/a/{article}"
        async with ClientSession() as http, http.get(page) as answer:
            assert answer.status == 200
            html = await answer.text()
        seen = await read_as_phone(page, scripts=False)

    assert "<script" not in html.lower()
    site = url.split("/")[2].removeprefix("www.")
    for link in (f"{page}/feed.atom", f"{base_url(server)}/c/{token}/s/{site}", url):  # feed, outlet, source
        assert f'href="{link}"' in html, link
    assert (seen["width"], seen["scrollWidth"], seen["overflowing"]) == (PHONE[0], PHONE[0], 0)
    assert seen["bodyFontPx"] >= 16 and seen["resources"] == 0 and seen["scripts"] == 0
    assert seen["headingFirst"]
    text = str(seen["bodyText"])
    newest = versions[-1]
    assert text.index(words(newest.title)) < text.index("First seen 2026-11-20 08:00 UTC")
    assert "Source: " + url in text
    assert "Last checked 2026-11-20 20:00 UTC" in text
    assert "Changed 4 times (5 versions)" in text
    # newest pair first, each headed by its versions
    assert seen["sections"] == ["v5", "v4", "v3", "v2"]
    heads = [text.index(f"v{n - 1} → v{n} · ") for n in (5, 4, 3, 2)]
    assert heads == sorted(heads)
    new_text, old_text = str(seen["newText"]), str(seen["oldText"])
    struck, marked = list(seen["struck"]), list(seen["marked"])
    for old, new in itertools.pairwise(versions):
        changes = diff_snapshots(old, new)
        assert changes
        for c in changes:  # nothing cut: every changed paragraph whole, on its side
            if c.kind != "added":
                assert _text_of(c, "old") in old_text, c.old
            if c.kind != "removed":
                assert _text_of(c, "new") in new_text, c.new
        removed, added = changed_runs(changes)
        for run in removed:
            assert any(run in s for s in struck), run
        for run in added:
            assert any(run in m for m in marked), run
        headline = [c for c in changes if c.kind == "headline"]
        if headline:  # headline first within its pair
            section = text[text.index(f"v{versions.index(old) + 1} → v{versions.index(new) + 1} · ") :]
            assert section.index("Headline changed") < min(
                (section.index(p[:20]) for c in changes if c.kind != "headline" for p in [c.new or c.old]),
                default=len(section),
            )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_outlet_record_fits_a_phone(store: Storage) -> None:
    now = datetime.now(UTC)
    for n, name in enumerate(["headline", "quote", "name and number"]):
        add_history(
            store,
            CHAT,
            f"https://example.com/story-{n}",
            [BASE, EDITS[name]],
            start=now - timedelta(days=n + 1),
        )
    token = store.chats.web_token(CHAT)
    async with serving(store) as server:
        seen = await read_as_phone(f"{base_url(server)}/c/{token}/s/example.com", scripts=False)
    assert (seen["width"], seen["scrollWidth"], seen["overflowing"]) == (PHONE[0], PHONE[0], 0)
    assert seen["bodyFontPx"] >= 16 and seen["resources"] == 0
    text = str(seen["bodyText"])
    for row in ("Articles edited 3 3", "Edits 3 3", "Headline changed 1 1", "A quote removed 1 1"):
        assert row in text, row
    assert "A name removed 1 1" in text and "No correction note 3 3" in text
    kinds = ["edited", "headline", "quote-removed", "name", "number", "undeclared"]
    assert seen["sections"] == [f"d{days}-{kind}" for days in (7, 30) for kind in kinds]
