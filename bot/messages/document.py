"""Change list + both versions → one self-contained HTML page with the whole before/after.

Pure (data in, an HTML string out). For a rewrite too big for the chat, /diff sends this page as
a file: the whole article in its new order, headline first, removed words struck, added words
marked, removed paragraphs where they stood, moved ones labelled at both places. It must open
in any phone browser with no network, so everything is inline (CSS, no scripts, no images,
no fonts), the viewport is the phone's, and long words wrap instead of widening the page.
Every user string (article text, headline, site, URL) passes through ``escape``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import unquote, urlsplit

from bot.core.diff import Change, Segment, summarize
from bot.messages.announcement import SEARCH_TITLE_LINE
from bot.messages.time import utc_stamp

__all__ = ["STYLE", "DocumentContext", "document_filename", "render_changes", "render_document"]


@dataclass(frozen=True)
class DocumentContext:
    """Everything the page says besides the changes: which article, which versions, when."""

    site: str
    url: str
    title: str  # the new headline
    old_version: int
    new_version: int
    old_paragraphs: tuple[str, ...]
    new_paragraphs: tuple[str, ...]
    old_at: datetime | None = None
    new_at: datetime | None = None
    article_number: int | None = None


STYLE = """
:root { color-scheme: light dark; --fg: #1b1b1b; --muted: #5f6368; --bg: #fff;
  --del-fg: #9f1111; --del-bg: #fde4e4; --ins-fg: #0a5c1c; --ins-bg: #d7f4dd;
  --edited: #c99700; --added: #2e9d48; --removed: #d33a3a; --moved: #6a55c2; --rule: #e2e2e2; }
@media (prefers-color-scheme: dark) { :root { --fg: #e9e9e9; --muted: #a8adb3; --bg: #151515;
  --del-fg: #ffb4b4; --del-bg: #4a1a1a; --ins-fg: #b8f2c4; --ins-bg: #173d21; --rule: #3a3a3a; } }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 42rem; padding: 14px 16px 40px; background: var(--bg);
  color: var(--fg); font: 17px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto,
  "Noto Sans", system-ui, sans-serif; overflow-wrap: anywhere; word-break: normal; }
header { border-bottom: 1px solid var(--rule); margin-bottom: 14px; padding-bottom: 8px; }
header p { margin: 0 0 6px; font-size: 15px; color: var(--muted); }
header .summary { color: var(--fg); font-weight: 600; }
a { color: inherit; }
h1 { font-size: 23px; line-height: 1.3; margin: 6px 0 18px; }
p { margin: 0 0 14px; }
del { color: var(--del-fg); background: var(--del-bg); text-decoration: line-through;
  text-decoration-thickness: 2px; }
ins { color: var(--ins-fg); background: var(--ins-bg); text-decoration: underline;
  text-decoration-thickness: 1px; }
del, ins { border-radius: 3px; }
.replaced del, .replaced ins, .replaced ins.next { display: block; width: fit-content; margin: 0 0 6px; }
ins.next { margin-left: .3em; }
.added ins { text-decoration: none; }
.change { border-left: 4px solid var(--edited); padding-left: 11px; margin: 0 0 16px; }
.change p:last-child { margin-bottom: 0; }
.added { border-color: var(--added); }
.removed { border-color: var(--removed); }
.moved, .gone { border-color: var(--moved); }
.label { margin: 0 0 3px; font-size: 13px; font-weight: 600; color: var(--muted);
  letter-spacing: .02em; }
.gone .label { margin: 0; }
.joined { white-space: pre-line; }
footer { border-top: 1px solid var(--rule); margin-top: 24px; padding-top: 8px; font-size: 14px;
  color: var(--muted); }
"""


def _segments(segments: Sequence[Segment]) -> str:
    """Word runs inline: <del> for removed words, <ins> for added ones, plain text between.

    Hiding either side must leave exactly the other version's text, so the space before a run
    stands outside its tag only where the other version has a space there too (HTML collapses
    the two); otherwise it belongs to this version alone and goes inside. A replacement right
    after its removed words is set apart by a margin, not a space.
    """
    out: list[str] = []
    for k, seg in enumerate(segments):
        if seg.op == "equal" or not seg.text.strip():
            out.append(escape(seg.text))
            continue
        tag = "del" if seg.op == "delete" else "ins"
        body = seg.text.lstrip()
        lead = seg.text[: len(seg.text) - len(body)]
        after = next((s.text for s in segments[k + 1 :] if s.op != seg.op), " ")
        outside = lead if lead and after[:1].isspace() else ""
        inside = lead[len(outside) :] + body
        apart = k > 0 and segments[k - 1].op == "delete" and seg.op == "insert" and not lead
        opening = f'<{tag} class="next">' if apart else f"<{tag}>"
        out.append(f"{escape(outside)}{opening}{escape(inside)}</{tag}>")
    return "".join(out).strip()


def _para(text: str, wrap: str = "") -> str:
    body = escape(text)
    return f'<p dir="auto">{f"<{wrap}>{body}</{wrap}>" if wrap else body}</p>'


def _block(kind: str, label: str, body: str) -> str:
    return f'<section class="change {kind}"><p class="label">{escape(label)}</p>{body}</section>'


def _changed(c: Change) -> str:
    """A change at its place in the new version."""
    o, n = (c.old_index or 0) + 1, (c.new_index or 0) + 1
    if c.kind == "added":
        return _block("added", f"¶{n} added", _para(c.new, "ins"))
    if c.kind == "removed":
        return _block("removed", f"¶{o} removed", _para(c.old, "del"))
    joined = ' class="joined"' if c.kind in ("split", "merged") else ""
    body = f'<p dir="auto"{joined}>{_segments(c.segments)}</p>' if c.segments else _para(c.new)
    if c.kind == "moved":
        edited = " and edited" if any(s.op != "equal" for s in c.segments) else ""
        return _block("moved", f"¶{o} moved here, now ¶{n}{edited}", body)
    if c.kind == "split":
        return _block("edited", f"¶{o} split into ¶{n}–¶{n + c.new_count - 1}", body)
    if c.kind == "merged":
        return _block("edited", f"¶{o}–¶{o + c.old_count - 1} merged into ¶{n}", body)
    return _block("edited", f"¶{n} edited", body)


def _moved_away(c: Change) -> str:
    """Where a moved paragraph used to stand."""
    o, n = (c.old_index or 0) + 1, (c.new_index or 0) + 1
    way = "down" if n > o else "up"
    return (
        f'<section class="change gone"><p class="label">{escape(f"¶{o} moved {way} to ¶{n}")}</p></section>'
    )


def _body(
    changes: Sequence[Change], old_paragraphs: Sequence[str], new_paragraphs: Sequence[str], whole: bool
) -> list[str]:
    """The new version's paragraphs in order, changed ones replaced by their change, removed
    ones (and the places moved ones left) right after the paragraph that preceded them.
    Without ``whole``, only the changes, in that same order."""
    paragraph_changes = [c for c in changes if c.kind not in ("headline", "search_title")]
    changed_old: set[int] = set()
    changed_new: set[int] = set()
    for c in paragraph_changes:
        if c.old_index is not None:
            changed_old.update(range(c.old_index, c.old_index + c.old_count))
        if c.new_index is not None:
            changed_new.update(range(c.new_index, c.new_index + c.new_count))
    same_new = [j for j in range(len(new_paragraphs)) if j not in changed_new]
    same_old = [i for i in range(len(old_paragraphs)) if i not in changed_old]
    landed = dict(zip(same_old, same_new, strict=False))  # unchanged paragraphs keep their order
    for c in paragraph_changes:
        if c.old_index is not None and c.new_index is not None:
            landed.update((i, c.new_index) for i in range(c.old_index, c.old_index + c.old_count))

    def after(i: int) -> int:
        return next((landed[k] for k in range(i - 1, -1, -1) if k in landed), -1)

    placed: list[tuple[tuple[int, int, int], str]] = (
        [((j, 0, 0), _para(new_paragraphs[j])) for j in same_new] if whole else []
    )
    for c in paragraph_changes:
        if c.new_index is not None:
            placed.append(((c.new_index, 0, 0), _changed(c)))
        if c.old_index is not None and c.new_index is None:
            placed.append(((after(c.old_index), 1, c.old_index), _changed(c)))
        elif c.kind == "moved" and c.old_index is not None:
            placed.append(((after(c.old_index), 1, c.old_index), _moved_away(c)))
    placed.sort(key=lambda item: item[0])
    return [html for _, html in placed]


def render_changes(
    changes: Sequence[Change],
    old_paragraphs: Sequence[str],
    new_paragraphs: Sequence[str],
    *,
    title: str | None,
    whole: bool = True,
    heading: str = "h1",
) -> list[str]:
    """The word-level changes of one version pair as HTML blocks, headline first: the /diff
    document, the history pages and the Atom feeds all show an edit through this one function.

    The headline's change (or ``title`` as it stands; nothing when ``title`` is None) in a
    ``heading`` element, then the new version's paragraphs with every change at its place
    (only the changes, in that order, without ``whole``)."""
    headline = next((c for c in changes if c.kind == "headline"), None)
    if headline is not None:
        # a headline rewritten from end to end reads best as the old one above the new one
        replaced = not any(s.op == "equal" and s.text.strip() for s in headline.segments)
        h = f'<{heading} dir="auto" class="replaced">' if replaced else f'<{heading} dir="auto">'
        top = [f'<p class="label">Headline changed</p>{h}{_segments(headline.segments)}</{heading}>']
    elif title is not None:
        top = [f'<{heading} dir="auto">{escape(title)}</{heading}>']
    else:
        top = []
    if search := next((c for c in changes if c.kind == "search_title"), None):
        label = escape(SEARCH_TITLE_LINE.rstrip(": "))
        line = f'<p class="label">{label}</p><p dir="auto">{_segments(search.segments)}</p>'
        top = [top[-1] + line] if top else [line]  # the search/social title, under the headline
    return [*top, *_body(changes, old_paragraphs, new_paragraphs, whole)]


def _stamp(moment: datetime | None) -> str:
    return f" ({utc_stamp(moment)})" if moment is not None else ""


def render_document(changes: Sequence[Change], ctx: DocumentContext) -> str:
    """The whole diff of two versions as one HTML page that needs nothing but itself."""
    summary = summarize(list(changes))
    number = f"#{ctx.article_number} · " if ctx.article_number is not None else ""
    versions = f"{number}v{ctx.old_version}{_stamp(ctx.old_at)} → v{ctx.new_version}{_stamp(ctx.new_at)}"
    link = f'<a href="{escape(ctx.url, quote=True)}">{escape(ctx.site or ctx.url)}</a>'
    parts = [
        "<!DOCTYPE html>",
        '<html lang="und">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(f'Redline: {ctx.title} (v{ctx.old_version} → v{ctx.new_version})')}</title>",
        f"<style>{STYLE}</style></head>",
        "<body><header>",
        f"<p>Redline · {link}</p>",
        f"<p>{escape(versions)}</p>",
        f'<p class="summary">{escape(summary[:1].upper() + summary[1:])}</p>',
        "<p><del>removed words</del> <ins>added words</ins></p>",
        "</header><main>",
        *render_changes(changes, ctx.old_paragraphs, ctx.new_paragraphs, title=ctx.title),
        "</main>",
        f"<footer>The text of both versions as Redline read them. Original: {link}</footer>",
        "</body></html>",
        "",
    ]
    return "\n".join(parts)


def _slug(text: str, limit: int) -> str:
    """ASCII letters, digits and single hyphens, for a file name every phone accepts."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")


def document_filename(site: str, url: str, old_version: int, new_version: int) -> str:
    """``redline-<site>-<slug>-v3-v5.html``: the article's last path segment names it."""
    segments = [s for s in unquote(urlsplit(url).path).split("/") if s]
    last = re.sub(r"\.(s?html?|php|aspx?)$", "", segments[-1]) if segments else ""
    slug = _slug(last, 60) or "article"
    return f"redline-{_slug(site, 40) or 'site'}-{slug}-v{old_version}-v{new_version}.html"
