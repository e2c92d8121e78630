"""The whole diff, readable: /diff sends every change — in up to three messages, past that as
one HTML document that a phone opens offline. The document the bot sent is opened in headless
Chromium at a phone's width, and every change is looked for in what the browser renders."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.core.diff import Change, Segment, diff_snapshots
from bot.core.extract import Snapshot, extract
from bot.messages.announcement import MessageContext, render_diff
from bot.messages.document import DocumentContext, document_filename, render_document
from bot.messages.fulldiff import DiffDocument, shows_every_word, whole_diff
from tests.conftest import RunningBots
from tests.corpus import corpus_or_skip, fixture_html
from tests.fakes.telegram_api import FakeTelegram, SentMessage, utf16_len
from tests.fakes.web import ArticleServer
from tests.pages import putin_v2
from tests.phone import PHONE, read_as_phone

ALICE = 1001
REWRITE_PATH = "/uk/2026/dec/03/kingsbridge-floods"


def words(text: str) -> str:
    return " ".join(text.split())


def rewrite(version: int) -> Snapshot:
    """Our own big rewrite: a flood story at 12, 18 and 52 paragraphs."""
    return extract(fixture_html(f"rewrite_v{version}.html"), f"https://news.example{REWRITE_PATH}")


def changed_runs(changes: list[Change]) -> tuple[list[str], list[str]]:
    """Every removed and every added run of text the changes hold, as a reader sees it."""
    removed: list[str] = []
    added: list[str] = []
    for c in changes:
        if c.kind == "removed":
            removed.append(words(c.old))
        elif c.kind == "added":
            added.append(words(c.new))
        for seg in c.segments:
            if seg.op != "equal" and seg.text.strip():
                (removed if seg.op == "delete" else added).append(words(seg.text))
    return removed, added


def assert_phone_shows_every_change(
    seen: dict[str, object], changes: list[Change], old: Snapshot, new: Snapshot
) -> None:
    """What Chromium rendered holds every change, struck or marked, nothing cut or too wide."""
    assert (seen["width"], seen["scrollWidth"], seen["overflowing"]) == (PHONE[0], PHONE[0], 0)
    assert seen["bodyFontPx"] >= 16  # readable without zooming
    assert seen["resources"] == 0  # nothing fetched: it works offline
    assert seen["headingFirst"]
    new_text, old_text = str(seen["newText"]), str(seen["oldText"])
    for paragraph in (new.title, *new.paragraphs):  # the whole new version, uncut
        assert words(paragraph) in new_text, paragraph
    for paragraph in (old.title, *old.paragraphs):  # and the whole old one
        assert words(paragraph) in old_text, paragraph
    struck, marked = list(seen["struck"]), list(seen["marked"])  # type: ignore[call-overload]
    removed, added = changed_runs(changes)
    # one struck run per removed run and one marked run per added run, plus the legend's one each
    assert len(struck) == len(removed) + 1 and len(marked) == len(added) + 1
    for run in removed:
        assert any(run in s for s in struck), run
    for run in added:
        assert any(run in m for m in marked), run
    labels = " ".join(seen["labels"])  # type: ignore[arg-type]
    for c in changes:
        if c.kind == "moved":
            assert f"¶{(c.old_index or 0) + 1} moved" in labels
    if any(c.kind == "headline" for c in changes):
        assert new_text.index(words(new.title)) < new_text.index(words(new.paragraphs[0]))


def entity_texts(message: SentMessage, kind: str) -> list[str]:
    """The text under each entity of one type, as Telegram shows it (UTF-16 offsets)."""
    units = message.plain_text.encode("utf-16-le")
    return [
        words(units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"))
        for e in message.entities
        if e["type"] == kind
    ]


async def test_diff_of_a_big_rewrite_in_messages_then_as_a_document(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, tmp_path: Path
) -> None:
    await bots.start()
    articles.set_page(REWRITE_PATH, fixture_html("rewrite_v1.html"))
    url = articles.url(REWRITE_PATH)
    assert (await telegram.ask(ALICE, f"/track {url}")).text.startswith("👀 Tracking #1")
    articles.set_page(REWRITE_PATH, fixture_html("rewrite_v2.html"))
    await telegram.wait_for(ALICE, contains="v1 → v2", timeout=20)
    articles.set_page(REWRITE_PATH, fixture_html("rewrite_v3.html"))
    await telegram.wait_for(ALICE, contains="v2 → v3", timeout=20)

    # 12 → 18 paragraphs: two messages, which between them strike and mark every change.
    after, calls = len(telegram.sent), len(telegram.requests)
    telegram.user_says(ALICE, "/diff 1 1 2")
    second = await telegram.wait_for(ALICE, contains="Part 2 of 2", after=after, timeout=15)
    parts = telegram.messages_to(ALICE)[-2:]
    assert parts[0].text.startswith("Part 1 of 2\n✏️ Headline changed") and parts[1] is second
    for part in parts:
        assert utf16_len(part.plain_text) <= 4096 and part.entities_count <= 100
    struck = [t for part in parts for t in entity_texts(part, "strikethrough")]
    marked = [t for part in parts for t in entity_texts(part, "bold")]
    removed, added = changed_runs(diff_snapshots(rewrite(1), rewrite(2)))
    for run in removed:
        assert any(run in s for s in struck), run
    for run in added:
        assert any(run in m for m in marked), run
    assert "hours after opening; it had space for 900." in parts[1].plain_text  # the last edit

    # 18 → 52 paragraphs: too much for three messages, so one document.
    sent = await telegram.ask(ALICE, "/diff 1")
    sends = [method for method, _ in telegram.requests[calls:] if method.startswith(("send", "edit"))]
    assert sends == ["sendMessage", "sendMessage", "sendDocument"]  # every call, refused ones too
    assert sent.method == "sendDocument" and sent.file is not None and sent.file.data is not None
    assert sent.file.filename == "redline-127-0-0-1-kingsbridge-floods-v2-v3.html"
    assert sent.plain_text.startswith("📄 Every change in #1 v2 → v3 (headline changed, ")
    assert sent.plain_text.endswith(
        "too many for the chat, so here they are as a page. Open it in any browser."
    )
    page = tmp_path / sent.file.filename
    page.write_bytes(sent.file.data)  # exactly the bytes the bot uploaded
    seen = await read_as_phone(page)
    assert_phone_shows_every_change(seen, diff_snapshots(rewrite(2), rewrite(3)), rewrite(2), rewrite(3))


def corpus_rewrite() -> tuple[Snapshot, Snapshot]:
    """A big rewrite of the corpus's longest page: its real headline edit, every fourth
    paragraph dropped, every fourth restructured, one moved to the end, and another real page
    of the same language merged in (as when a desk folds an agency story into its own)."""
    root = corpus_or_skip()
    pages = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["pages"]

    def read(page: dict[str, str], file: str) -> Snapshot:
        html = (root / "pages" / page["slug"] / file).read_text(encoding="utf-8", errors="replace")
        return extract(html, page["url"])

    snapshots = {p["slug"]: read(p, "v1.html") for p in pages}
    longest = max(pages, key=lambda p: sum(map(len, snapshots[p["slug"]].paragraphs)))
    old = snapshots[longest["slug"]]
    kin = max(
        (p for p in pages if p["lang"] == longest["lang"] and p is not longest),
        key=lambda p: len(snapshots[p["slug"]].paragraphs),
    )
    kept: list[str] = []
    for i, paragraph in enumerate(old.paragraphs):
        if i % 4 == 1 or i == 5:
            continue
        if i % 4 == 2 and ". " in paragraph:
            first, rest = paragraph.split(". ", 1)
            paragraph = f"{rest.rstrip('.')}. {first}."
        kept.append(paragraph)
    merged = [*kept[:6], *snapshots[kin["slug"]].paragraphs[:8], *kept[6:], old.paragraphs[5]]
    return old, Snapshot(read(longest, "v2.html").title, tuple(merged))


async def test_corpus_rewrite_opens_on_a_phone_with_every_change(tmp_path: Path) -> None:
    old, new = corpus_rewrite()
    changes = diff_snapshots(old, new)
    assert {"headline", "edited", "added", "removed"} <= {c.kind for c in changes}
    reply = whole_diff(
        changes, context(old, new, "https://www.spiegel.de/politik/story-a-123.html", "spiegel.de")
    )
    assert isinstance(reply, DiffDocument), "a rewrite this big must not be cut into messages"
    page = tmp_path / reply.filename
    page.write_text(reply.html, encoding="utf-8")
    assert_phone_shows_every_change(await read_as_phone(page), changes, old, new)


@pytest.mark.parametrize("slug", ["cnn-arabic", "chinadaily"])
async def test_corpus_edits_in_other_scripts_read_on_a_phone(slug: str, tmp_path: Path) -> None:
    """Right-to-left and spaceless scripts: the corpus page's four real edits (headline, words
    of a paragraph, a paragraph added, one removed) all in one version, as the document."""
    root = corpus_or_skip()
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    page = next(p for p in manifest["pages"] if p["slug"] == slug)
    v1, v2, v3, v4, v5 = (
        extract(
            (root / "pages" / slug / f"v{n}.html").read_text(encoding="utf-8", errors="replace"), page["url"]
        )
        for n in range(1, 6)
    )
    edited = dict(zip(v1.paragraphs, v3.paragraphs, strict=False))
    gone = set(v1.paragraphs) - set(v5.paragraphs)
    paragraphs = tuple(edited.get(p, p) for p in v4.paragraphs if p not in gone)
    old, new = v1, Snapshot(v2.title, paragraphs)
    changes = diff_snapshots(old, new)
    assert {"headline", "edited", "added", "removed"} <= {c.kind for c in changes}
    path = tmp_path / "page.html"
    path.write_text(render_document(changes, context(old, new, page["url"], slug)), encoding="utf-8")
    assert_phone_shows_every_change(await read_as_phone(path), changes, old, new)


# -- the pure parts ---------------------------------------------------------------------------


def context(old: Snapshot, new: Snapshot, url: str, site: str, number: int | None = None) -> DocumentContext:
    """Versions 1 and 2 of the article at ``url``."""
    return DocumentContext(site, url, new.title, 1, 2, old.paragraphs, new.paragraphs, article_number=number)


def test_a_small_edit_is_one_message_as_before() -> None:
    from tests.pages import article_html

    old, new = extract(article_html()), extract(putin_v2())
    changes = diff_snapshots(old, new)
    url = "https://www.theguardian.com/world/2016/oct/11/putin-paris"
    reply = whole_diff(changes, context(old, new, url, "theguardian.com", number=4))
    ctx = MessageContext("theguardian.com", url, new.title, 1, 2, None, 4)
    assert reply == (render_diff(changes, ctx),)


def test_a_message_that_cuts_a_change_does_not_show_every_word() -> None:
    change = Change(
        "edited",
        0,
        0,
        "Putin will not visit Paris",
        "Putin has cancelled a visit to Paris",
        (
            Segment("equal", "Putin"),
            Segment("delete", " will not visit"),
            Segment("insert", " has cancelled a visit to"),
            Segment("equal", " Paris"),
        ),
    )
    whole = "¶1 edited: Putin <s>will not visit</s> <b>has cancelled a visit to</b> Paris"
    assert shows_every_word(whole, [change])
    assert not shows_every_word(
        "¶1 edited: Putin <s>will not visit</s> <b>has cancelled…</b> Paris", [change]
    )
    assert not shows_every_word("and 1 more paragraph changed (too long for one message)", [change])


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_document_escapes_every_user_string_and_needs_no_network() -> None:
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    old = Snapshot("Old <b>headline</b>", ("Same paragraph.", f"Gone {hostile}"))
    new = Snapshot(f"New {hostile}", ("Same paragraph.", f"Added {hostile}"))
    changes = diff_snapshots(old, new)
    ctx = context(old, new, 'https://evil.example/a"><script>alert(2)</script>', 'evil"site.example')
    page = render_document(changes, ctx)
    parser = _Text()
    parser.feed(page)
    assert not {"script", "img", "link", "iframe", "object", "embed"} & set(parser.tags)
    assert hostile in "".join(parser.text)  # shown as text, not run
    assert {name for name, _ in parser.attrs} <= {
        "lang",
        "charset",
        "name",
        "content",
        "href",
        "dir",
        "class",
    }
    assert {value for name, value in parser.attrs if name == "href"} == {ctx.url}  # a link, never loaded
    style = page[page.index("<style>") : page.index("</style>")]
    assert "url(" not in style and "@import" not in style
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page


@pytest.mark.parametrize(
    ("site", "url", "expected"),
    [
        (
            "theguardian.com",
            "https://www.theguardian.com/world/2016/oct/11/putin-cancels-paris-visit",
            "redline-theguardian-com-putin-cancels-paris-visit-v3-v5.html",
        ),
        ("spiegel.de", "https://www.spiegel.de/politik/a-1234.html", "redline-spiegel-de-a-1234-v3-v5.html"),
        (
            "lemonde.fr",
            "https://www.lemonde.fr/международные/été-2026/",
            "redline-lemonde-fr-ete-2026-v3-v5.html",
        ),
        (
            "chinadaily.com.cn",
            "https://www.chinadaily.com.cn/新闻/",
            "redline-chinadaily-com-cn-article-v3-v5.html",
        ),
        ("example.com", "https://example.com/", "redline-example-com-article-v3-v5.html"),
        ("example.com", "https://example.com/?id=7", "redline-example-com-article-v3-v5.html"),
    ],
)
def test_document_filename(site: str, url: str, expected: str) -> None:
    assert document_filename(site, url, 3, 5) == expected
