"""An article's history page and an outlet's record page (pure: data in, one HTML page out).

Like the /diff document, a page needs nothing but itself: inline CSS (the document's, plus a
few rules), no scripts, no images, no fonts, the phone's viewport; saved from the browser it
reads the same offline. Every version pair is drawn by ``document.render_changes``, the
renderer the /diff document and the Atom feeds use, so the three never drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from bot.core.diff import summarize
from bot.core.record import FIGURES, ArticleFacts, Edit, Window
from bot.core.states import ArticleState
from bot.messages.document import STYLE, render_changes
from bot.messages.time import utc_stamp
from bot.messages.weblinks import WebLinks

__all__ = ["FIGURE_LABELS", "history_page", "not_found_page", "outlet_page"]

_PAGE_CSS = """
nav { font-size: 15px; color: var(--muted); margin: 0 0 6px; }
.facts { list-style: none; padding: 0; margin: 0 0 8px; font-size: 15px; color: var(--muted); }
.facts li { margin: 0 0 3px; }
.facts strong { color: var(--fg); }
.pair { border-top: 1px solid var(--rule); padding-top: 12px; margin-top: 20px; }
h2 { font-size: 16px; line-height: 1.4; margin: 0 0 10px; color: var(--muted); font-weight: 600; }
h3 { font-size: 19px; line-height: 1.35; margin: 4px 0 14px; }
table.record { width: 100%; border-collapse: collapse; margin: 0 0 18px; font-size: 16px; }
.record th, .record td { padding: 7px 4px; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; }
.record .n { text-align: right; white-space: nowrap; width: 4.5em; }
.behind li { margin: 0 0 8px; }
.behind .when { font-size: 14px; color: var(--muted); }
"""

# What each figure of an outlet's record means, as its row says it.
FIGURE_LABELS = {
    "headline": "Headline changed",
    "quote removed": "A quote removed",
    "name": "A name removed",
    "number": "A number changed or removed",
    "undeclared": "No correction note",
}
assert set(FIGURE_LABELS) == set(FIGURES)


def _page(title: str, header: Sequence[str], main: Sequence[str], footer: str) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="und">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{escape(title)}</title>",
            f"<style>{STYLE}{_PAGE_CSS}</style></head>",
            "<body><header>",
            *header,
            "</header><main>",
            *main,
            "</main>",
            f"<footer>{footer}</footer>",
            "</body></html>",
            "",
        ]
    )


def _link(url: str, text: str) -> str:
    return f'<a href="{escape(url, quote=True)}">{escape(text)}</a>'


def _summary(edit: Edit) -> str:
    text = summarize(list(edit.changes))
    return text[:1].upper() + text[1:]


def _checked(facts: ArticleFacts) -> str:
    last = f"Last checked {utc_stamp(facts.last_checked)}" if facts.last_checked else "Not checked yet"
    if facts.state == ArticleState.DORMANT:
        return f"{last}; won't be checked again (unchanged for a long time; tracking it again wakes it)"
    if facts.state == ArticleState.GONE:
        return f"{last}; won't be checked again (the page is gone)"
    return last


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _times(edits: int) -> str:
    if edits == 0:
        return "No changes seen yet"
    return f"Changed <strong>{edits}</strong> time{'s' if edits != 1 else ''}"


def history_page(facts: ArticleFacts, edits: Sequence[Edit], links: WebLinks) -> str:
    """Every version pair of one article, newest first, each with its word-level changes,
    headline first."""
    ref = facts.ref
    header = [
        f"<nav>Redline · {_link(links.outlet(ref.site), ref.site or 'site')}"
        f" · {_link(links.article_feed(ref.id), 'Atom feed of changes')}</nav>",
    ]
    facts_list = [
        f"<li>Source: {_link(ref.url, ref.url)}</li>",
        f"<li>First seen {utc_stamp(facts.first_seen)}</li>",
        f"<li>{escape(_checked(facts))}</li>",
        f"<li>{_times(facts.versions - 1)} ({_count(facts.versions, 'version')})</li>",
    ]
    main = [f'<h1 dir="auto">{escape(ref.title or ref.url)}</h1>', '<ul class="facts">', *facts_list, "</ul>"]
    if not edits:
        main.append("<p>Redline has seen one version of this article so far: no edits yet.</p>")
    for edit in sorted(edits, key=lambda e: e.new_number, reverse=True):
        stamp = f"v{edit.old_number} → v{edit.new_number} · {utc_stamp(edit.new_at)} · {_summary(edit)}"
        main += [
            f'<section class="pair" id="v{edit.new_number}">',
            f"<h2>{escape(stamp)}</h2>",
            *render_changes(
                edit.changes, edit.old_paragraphs, edit.new_paragraphs, title=None, whole=False, heading="h3"
            ),
            "</section>",
        ]
    footer = (
        "Every version as Redline read it, word by word: <del>removed words</del> <ins>added words</ins>. "
        f"The article itself: {_link(ref.url, ref.site or ref.url)}"
    )
    return _page(f"Redline: {ref.title or ref.url} (history)", header, main, footer)


def outlet_page(site: str, windows: Sequence[Window], titles: Mapping[int, str], links: WebLinks) -> str:
    """A site's record over each window: how many of its articles changed and what the edits
    did, each figure a link to the list of articles behind it further down."""

    def cell(window: Window, key: str, count: int) -> str:
        if count == 0:
            return '<td class="n">0</td>'
        return f'<td class="n"><a href="#d{window.days}-{key.replace(" ", "-")}">{count}</a></td>'

    heads = "".join(f'<th class="n">{w.days} days</th>' for w in windows)
    rows = [
        "<tr><th>Articles edited</th>"
        + "".join(cell(w, "edited", len(w.changed)) for w in windows)
        + "</tr>",
        "<tr><th>Edits</th>" + "".join(f'<td class="n">{w.edits}</td>' for w in windows) + "</tr>",
    ]
    for key in FIGURES:
        rows.append(
            f"<tr><th>{escape(FIGURE_LABELS[key])}</th>"
            + "".join(cell(w, key, len(w.figures[key])) for w in windows)
            + "</tr>"
        )
    tracked = windows[0].articles if windows else 0
    main = [
        f'<h1 dir="auto">{escape(site)}: its edits</h1>',
        f"<p>Of the {_count(tracked, 'article')} from {escape(site)} Redline reads, "
        "what the edits of the last days did. Each figure links to the articles behind it.</p>",
        f'<table class="record"><thead><tr><th></th>{heads}</tr></thead><tbody>',
        *rows,
        "</tbody></table>",
    ]
    for w in windows:
        edited = [
            f"<li>{_link(links.article(aid), titles.get(aid, '') or f'Article {aid}')}</li>"
            for aid in w.changed
        ]
        if edited:
            main += [
                f'<section id="d{w.days}-edited"><h2>Articles edited in the last {w.days} days</h2>',
                f'<ul class="behind">{"".join(edited)}</ul></section>',
            ]
        for key in FIGURES:
            behind = w.figures[key]
            if not behind:
                continue
            items = [
                f"<li>{_link(links.article(e.article_id, e.new_number), e.title)} "
                f'<span class="when">v{e.old_number} → v{e.new_number} · {utc_stamp(e.new_at)}</span></li>'
                for e in reversed(behind)
            ]
            main += [
                f'<section id="d{w.days}-{key.replace(" ", "-")}">',
                f"<h2>{escape(FIGURE_LABELS[key])}: the last {w.days} days</h2>",
                f'<ul class="behind">{"".join(items)}</ul></section>',
            ]
    footer = (
        "An edit is a new version Redline read. A correction note is a line such as “Correction:” "
        "or “This article has been updated”."
    )
    return _page(f"Redline: {site}'s edits", ["<nav>Redline · an outlet's record</nav>"], main, footer)


def not_found_page() -> str:
    """The one answer to an address that is wrong, revoked, or not this reader's."""
    return _page(
        "Redline: not found",
        ["<nav>Redline</nav>"],
        ["<h1>Not found</h1>", "<p>There is no page at this address, or it is no longer shared.</p>"],
        "Redline",
    )
