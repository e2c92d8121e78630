"""Change list → the message a chat receives (Telegram HTML, or plain text as a fallback).

Pure. The limits that matter are Telegram's: at most 4096 UTF-16 code units per message and
at most 100 formatting entities (past the 100th Telegram silently drops the formatting, so a
long word diff would turn into an unreadable run of text). Both are enforced while the message
is built: each paragraph block is rendered, coarsened (neighbouring changed words merged into
one run) until it fits, and when nothing more fits the rest is summarised as
"and N more paragraphs changed — /diff_K". Markup is produced only as whole tags around
already-escaped text, so a cut can never fall inside a tag or an entity.

An announcement also keeps a reader's budget (one phone screen, whatever the shape of the edit:
many paragraphs or one long block): past it the message becomes a digest whose excerpts are the
changed runs chosen by what changed (core.significance.salience), shown in reading order.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.core.anchors import NEGATION, NUMBER
from bot.core.diff import SEARCH_TITLE_CHANGED, Change, Segment, split_tokens, summarize
from bot.core.significance import WEIGHTS, Fact, assess, novel, salience
from bot.messages import limits
from bot.messages.limits import DEFAULT_BUDGET, visible_len
from bot.messages.time import format_elapsed

__all__ = [
    "MessageContext",
    "render_announcement",
    "render_diff",
    "render_plain",
]


@dataclass(frozen=True)
class MessageContext:
    """What the message says about the article besides the changes themselves."""

    site: str
    url: str
    title: str  # the current headline
    old_version: int
    new_version: int
    elapsed: timedelta | None = None  # since the previous version
    article_number: int | None = None  # the chat's /list number, for "/diff_N" (tappable)
    note: str = ""  # leads the message: a revert, an A/B test, a withdrawal
    paragraphs: int | None = None  # paragraphs in the old version, for "9 of 11 changed"


# --------------------------------------------------------------------------------------------
# Markup: one renderer, two dialects
# --------------------------------------------------------------------------------------------


class _Markup:
    """Telegram HTML. Every piece of article text passes through ``esc``."""

    html = True

    def esc(self, text: str) -> str:
        return html.escape(text, quote=False)

    def deleted(self, text: str) -> str:
        return f"<s>{self.esc(text)}</s>"

    def inserted(self, text: str) -> str:
        return f"<b>{self.esc(text)}</b>"

    def italic(self, text: str) -> str:
        return f"<i>{self.esc(text)}</i>"

    def link(self, text: str, url: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{self.esc(text)}</a>'


class _Plain(_Markup):
    """Plain text in wdiff notation, for when Telegram refuses the HTML."""

    html = False

    def esc(self, text: str) -> str:
        return text

    def deleted(self, text: str) -> str:
        return f"[-{text}-]"

    def inserted(self, text: str) -> str:
        return f"{{+{text}+}}"

    def italic(self, text: str) -> str:
        return text

    def link(self, text: str, url: str) -> str:
        return f"{text} {url}"


@dataclass(frozen=True)
class _Style:
    """How much of each change to show."""

    context: int  # characters of unchanged text kept on each side of a change
    max_run: int  # characters of one changed run before it is cut with "…"
    max_para: int  # characters of an added/removed paragraph
    headline_context: int


_ANNOUNCE = _Style(context=40, max_run=200, max_para=300, headline_context=300)
_FULL = _Style(context=200, max_run=1200, max_para=1500, headline_context=1000)


def _cut(text: str, limit: int) -> str:
    """Shorten plain text to ``limit`` characters at a word boundary, marking it with "…"."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    else:  # no space to cut at (CJK, Thai): at least keep emoji sequences and accents whole
        while len(cut) > 1 and (cut[-1] in "\u200d\ufe0f" or unicodedata.category(text[len(cut)])[0] == "M"):
            cut = cut[:-1]
    return cut.rstrip() + "…"


def _tokens_within(text: str, budget: int, from_end: bool) -> tuple[str, bool]:
    """Whole tokens from one end of ``text`` up to ``budget`` characters; (kept, cut?)."""
    toks = split_tokens(text)
    if from_end:
        toks = toks[::-1]
    kept: list[tuple[str, bool]] = []
    size = 0
    for tok, space in toks:
        cost = len(tok) + (1 if space else 0)
        if kept and size + cost > budget:
            break
        kept.append((tok, space))
        size += cost
    cut = len(kept) < len(toks)
    if from_end:
        # a cut between a word and the punctuation glued to it ("labour|”") keeps neither
        while cut and len(kept) > 1 and not kept[-1][1] and not _is_word(kept[-1][0]):
            kept.pop()
        kept = kept[::-1]
    out = "".join((" " if (k and sp) else "") + t for k, (t, sp) in enumerate(kept))
    if from_end and kept and kept[0][1]:
        out = " " + out  # the first kept token was preceded by a space in the source
    return out, cut


def _is_word(token: str) -> bool:
    return any(c.isalnum() for c in token)


def _coarsen(segments: Sequence[Segment], max_equal: int) -> list[Segment]:
    """Merge changes separated by at most ``max_equal`` unchanged characters into one run.

    Fewer runs means fewer entities; the unchanged words between them show up on both sides.
    """
    groups: list[tuple[str, str, str]] = []  # ("equal", text, "") | ("change", deleted, inserted)
    for seg in segments:
        if seg.op == "equal":
            groups.append(("equal", seg.text, ""))
        elif groups and groups[-1][0] == "change":
            _, d, i = groups.pop()
            groups.append(("change", d + seg.text, i) if seg.op == "delete" else ("change", d, i + seg.text))
        else:
            groups.append(("change", seg.text, "") if seg.op == "delete" else ("change", "", seg.text))
    out: list[tuple[str, str, str]] = []
    for k, g in enumerate(groups):
        if (
            g[0] == "equal"
            and 0 < k < len(groups) - 1
            and len(g[1].strip()) <= max_equal
            and out
            and out[-1][0] == "change"
        ):
            _, d, i = out.pop()
            out.append(("change", d + g[1], i + g[1]))
            continue
        if g[0] == "change" and out and out[-1][0] == "change":
            _, d, i = out.pop()
            out.append(("change", d + g[1], i + g[2]))
            continue
        out.append(g)
    result: list[Segment] = []
    for kind, a, b in out:
        if kind == "equal":
            result.append(Segment("equal", a))
        else:
            if a:
                result.append(Segment("delete", a))
            if b:
                result.append(Segment("insert", b))
    return result


def _render_segments(segments: Sequence[Segment], m: _Markup, context: int, max_run: int) -> str:
    """Word runs with ``context`` characters of unchanged text around each change."""
    out: list[str] = []
    n = len(segments)
    for k, seg in enumerate(segments):
        text = seg.text
        lead = " " if text[:1].isspace() else ""
        body = text.strip()
        if not body:
            out.append(lead)
            continue
        if seg.op == "equal":
            first, last = k == 0, k == n - 1
            if first and last:
                out.append(m.esc(_cut(body, context * 2)))
            elif first:
                kept, cut = _tokens_within(text, context, from_end=True)
                out.append(("…" if cut else "") + m.esc(kept.strip()))
            elif last:
                kept, cut = _tokens_within(text, context, from_end=False)
                out.append(lead + m.esc(kept.strip()) + ("…" if cut else ""))
            elif len(body) > 2 * context + 5:
                head, _ = _tokens_within(text, context, from_end=False)
                tail, _ = _tokens_within(text, context, from_end=True)
                out.append(lead + m.esc(head.strip()) + " … " + m.esc(tail.strip()))
            else:
                out.append(lead + m.esc(body))
        else:
            # "postpones" → "<s>postpones</s>"; the space before a run stays outside the tag
            prev_change = k > 0 and segments[k - 1].op != "equal"
            if prev_change and not lead and _needs_space(segments[k - 1].text, body):
                lead = " "
            run = _cut(body, max_run)
            out.append(lead + (m.deleted(run) if seg.op == "delete" else m.inserted(run)))
    return "".join(out).strip()


def _needs_space(prev: str, nxt: str) -> bool:
    """Between "<s>old</s>" and "<b>new</b>": a space unless the script uses none (CJK, Thai)."""
    a, b = prev.rstrip()[-1:], nxt[:1]
    if not a or not b:
        return False
    return not (_no_space_script(a) or _no_space_script(b))


def _no_space_script(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x2E80 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0xFF00 <= cp <= 0xFFEF
        or 0x0E00 <= cp <= 0x0EFF
        or 0x1000 <= cp <= 0x109F
        or 0x1780 <= cp <= 0x17FF
        or cp >= 0x20000
    )


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------

_COARSEN_LEVELS = (0, 3, 8, 20, 60, 10**9)
# The changes shown at the top, before the paragraphs: the display headline, then the search
# and social title (<title>, og:title), which is worth a line but never passes for the headline.
_TITLE_KINDS = ("headline", "search_title")
SEARCH_TITLE_LINE = SEARCH_TITLE_CHANGED[:1].upper() + SEARCH_TITLE_CHANGED[1:] + ": "


def _label(c: Change) -> str:
    o = (c.old_index or 0) + 1
    n = (c.new_index or 0) + 1
    if c.kind == "added":
        return f"¶{n} added"
    if c.kind == "removed":
        return f"¶{o} removed"
    if c.kind == "moved":
        return f"¶{o} moved to ¶{n}"
    if c.kind == "split":
        return f"¶{o} split into ¶{n}–¶{n + c.new_count - 1}"
    if c.kind == "merged":
        return f"¶{o}–¶{o + c.old_count - 1} merged into ¶{n}"
    return f"¶{n} edited"


def _block_variants(c: Change, m: _Markup, style: _Style) -> Iterator[str]:
    """Renderings of one change, from most detailed to most compact (lazily: usually the
    first fits)."""
    label = "" if c.kind == "headline" else f"{_label(c)}: "
    if c.kind == "search_title":  # a line of its own, below the headline: readers never see it
        label = SEARCH_TITLE_LINE
    if c.kind in ("added", "removed") or (c.kind in ("moved", "split", "merged") and not c.segments):
        text = " ".join((c.old if c.kind == "removed" else c.new).split("\n"))
        wrap = {"added": m.inserted, "removed": m.deleted}.get(c.kind, m.italic)
        limit = style.max_para if c.kind in ("added", "removed") else min(style.max_para, 160)
        yield label + wrap(_cut(text, limit))
        yield label + wrap(_cut(text, 80))
        return
    context = style.headline_context if c.kind in _TITLE_KINDS else style.context
    for level in _COARSEN_LEVELS:
        segs = _coarsen(c.segments, level) if level else list(c.segments)
        yield label + _render_segments(segs, m, context, style.max_run)
    # last resort: one run, little context, short
    yield label + _render_segments(_coarsen(c.segments, 10**9), m, 15, 60)


# Excerpts in a digest, from fullest to tightest: (context chars, run chars, paragraph chars).
_EXCERPTS = ((25, 70, 120), (12, 45, 70))
_MAX_UNITS = 80
_DIGEST_ENTITIES = 40  # a digest is read at a glance; two still fit one coalesced update (100)


def _hunks(segments: Sequence[Segment]) -> list[tuple[int, int]]:
    """Index ranges of the runs of changed segments."""
    out: list[tuple[int, int]] = []
    start = None
    for k, seg in enumerate(segments):
        if seg.op != "equal" and start is None:
            start = k
        elif seg.op == "equal" and start is not None:
            out.append((start, k))
            start = None
    if start is not None:
        out.append((start, len(segments)))
    return out


def _focus(run: str, limit: int) -> str:
    """A changed run too long to show whole starts near its first number or negation when the
    cut at ``limit`` would hide it: the reason the change was picked stays in view."""
    found = NUMBER.search(run) or NEGATION.search(run)
    if len(run) <= limit or found is None or found.end() <= limit - 10:
        return run
    start = run.rfind(" ", 0, max(0, found.start() - limit // 3)) + 1
    return (" " if run[:1].isspace() else "") + "…" + run[start:].lstrip()


@dataclass(frozen=True)
class _Unit:
    """One thing a digest can show: a changed run inside a paragraph, or a whole paragraph
    added, removed or moved (``hunk`` None)."""

    para: int  # index into the digest's paragraph changes
    hunk: tuple[int, int] | None
    rank: tuple[int, int]  # salience: (weight, words changed)


def _position(c: Change) -> int:
    return c.new_index if c.new_index is not None else c.old_index or 0


def _others(paragraphs: Sequence[Change]) -> tuple[str, str]:
    """All the old and all the new text of the changed paragraphs: what an added paragraph's
    facts are compared with (the unchanged paragraphs state nothing new either way)."""
    old = "\n".join(c.old for c in paragraphs if c.kind != "added")
    new = "\n".join(c.new for c in paragraphs if c.kind != "removed")
    return old, new


def _units(paragraphs: Sequence[Change], coarse: Sequence[Sequence[Segment]]) -> list[_Unit]:
    """Every run of every changed paragraph, most salient first (reading order breaks ties)."""
    old_text, new_text = _others(paragraphs)
    units: list[_Unit] = []
    for k, c in enumerate(paragraphs):
        lede = 0 in (c.old_index, c.new_index)
        if not c.segments:
            if c.kind == "removed":
                rank = salience(c.old, new_text, lede=lede)
            elif c.kind == "added":
                rank = salience(old_text, c.new, lede=lede)
            else:
                rank = salience("", "", lede=lede)
            units.append(_Unit(k, None, rank))
            continue
        runs = []
        for hunk in _hunks(coarse[k]):
            runs.append(_Unit(k, hunk, salience(*_run_texts(coarse[k], hunk), lede=False)))
        if lede and runs:  # the lede counts once, for its most telling run, not for every comma
            top = min(runs, key=lambda u: (-u.rank[0], -u.rank[1]))
            runs[runs.index(top)] = _Unit(k, top.hunk, salience(*_run_texts(coarse[k], top.hunk), lede=True))
        units += runs
    units.sort(key=lambda u: (-u.rank[0], -u.rank[1], _position(paragraphs[u.para]), u.hunk or (0, 0)))
    return units[:_MAX_UNITS]


def _run_texts(segments: Sequence[Segment], hunk: tuple[int, int] | None) -> tuple[str, str]:
    run = segments[hunk[0] : hunk[1]] if hunk else ()
    return "".join(s.text for s in run if s.op == "delete"), "".join(s.text for s in run if s.op == "insert")


def _window(text: str, found: Sequence[Fact], limit: int) -> str:
    """At most ``limit`` characters of a long paragraph, placed to hold the most of its new
    facts: "…the death toll rose to at least 398 people…" rather than its first words."""
    if len(text) <= limit or not found:
        return _cut(text, limit)
    best, start = 0, 0
    for at in [0, *(max(0, f.start - 25) for f in found)]:
        at = text.rfind(" ", 0, at) + 1 if at else 0
        held = sum(WEIGHTS[f.kind] for f in found if at <= f.start and f.end <= at + limit - 2)
        if held > best:
            best, start = held, at
    return ("…" if start else "") + _cut(text[start:], limit - (1 if start else 0))


def _excerpt(
    c: Change,
    segments: Sequence[Segment],
    hunks: Sequence[tuple[int, int]],
    m: _Markup,
    style: tuple[int, int, int],
    other: str = "",
) -> str:
    """One paragraph's line in a digest: the chosen runs in reading order, each with a few
    words of context, "…" where text is left out."""
    context, max_run, max_para = style
    label = f"{_label(c)}: "
    if not c.segments:
        text = " ".join((c.old if c.kind == "removed" else c.new).split("\n"))
        wrap = {"added": m.inserted, "removed": m.deleted}.get(c.kind, m.italic)
        return label + wrap(_window(text, novel(text, other), max_para))
    # each chosen run with the unchanged text on either side; runs sharing it go together
    spans: list[list[int]] = []
    for a, b in sorted(hunks):
        lo, hi = max(0, a - 1), min(len(segments), b + 1)
        if spans and lo < spans[-1][1]:
            spans[-1][1] = hi
        else:
            spans.append([lo, hi])
    parts: list[str] = []
    for lo, hi in spans:
        shown = [Segment(g.op, _focus(g.text, max_run)) if g.op != "equal" else g for g in segments[lo:hi]]
        part = _render_segments(shown, m, context, max_run)
        if lo > 0 and not part.startswith("…"):
            part = "…" + part
        if hi < len(segments) and not part.endswith("…"):
            part += "…"
        if parts and parts[-1].endswith("…") and part.startswith("…"):
            part = part[1:]
        parts.append(part)
    return label + " ".join(parts)


def _rewritten(c: Change) -> bool:
    """Most of the paragraph's words changed."""
    if not c.segments:
        return c.kind in ("added", "removed")
    changed = sum(len(s.text.split()) for s in c.segments if s.op == "insert")
    return changed * 2 > max(1, len(c.new.split()))


def _summary_line(changes: Sequence[Change], paragraphs: int | None) -> str:
    """The kind of rewrite in one line: "Rewritten: 9 of 11 paragraphs changed, 7 new" when most
    of the old text changed, otherwise what happened to the lede and the counts ("The lede was
    rewritten, 2 more paragraphs edited, 3 new paragraphs, 1 removed")."""
    touched = sum(c.old_count for c in changes if c.kind != "added")
    added = sum(c.new_count for c in changes if c.kind == "added")
    if paragraphs and touched * 2 > paragraphs:
        return f"Rewritten: {min(touched, paragraphs)} of {paragraphs} paragraphs changed" + (
            f", {added} new" if added else ""
        )
    if len(changes) == 1 and changes[0].segments:  # one long block
        runs = len(_hunks(_coarsen(changes[0].segments, 3)))
        return f"{_label(changes[0]).replace('¶', 'Paragraph ')} in {runs} place{'s' if runs != 1 else ''}"
    lede = next((c for c in changes if c.kind == "edited" and 0 in (c.old_index, c.new_index)), None)
    if lede is None:
        text = summarize(list(changes))
        return text[:1].upper() + text[1:]
    rest = [c for c in changes if c is not lede]
    parts = ["The lede was rewritten" if _rewritten(lede) else "The lede was edited"]
    edited = sum(c.kind == "edited" for c in rest)
    if edited:
        parts.append(f"{edited} more paragraph{'s' if edited != 1 else ''} edited")
    if added:
        parts.append(f"{added} new paragraph{'s' if added != 1 else ''}")
    for kind in ("removed", "moved", "split", "merged"):
        k = sum(c.kind == kind for c in rest)
        if k:
            parts.append(f"{k} {kind}")
    return ", ".join(parts)


def _render(
    changes: Sequence[Change],
    ctx: MessageContext,
    m: _Markup,
    style: _Style,
    pointer: bool,
    budget: int | None = None,
) -> str:
    """Every change that fits Telegram's limits; with a ``budget``, an edit whose full message
    would take more than ``budget`` visible characters (many paragraphs or one long one) becomes
    a digest: headline in full, a one-line summary of the kind of rewrite, the most significant
    changed runs as excerpts in reading order, then what was left out and "/diff_N"."""
    summary = summarize(list(changes))
    site = _cut(ctx.site or ctx.url, 80)
    sig = assess(changes)
    how = f" — declared: “{sig.declared}”" if sig.declared else " — unannounced edit"

    def header(parts: Sequence[str]) -> str:
        lead = ", ".join(parts)
        text = f"✏️ {m.esc(lead[:1].upper() + lead[1:] + how)} · {m.link(site, ctx.url)}"
        return f"{m.esc(_cut(ctx.note, 400))}\n{text}" if ctx.note else text

    footer_bits = [f"v{ctx.old_version} → v{ctx.new_version}"]
    if ctx.elapsed is not None:
        footer_bits.append(f"{format_elapsed(ctx.elapsed)} after the last version")
    if ctx.article_number is not None and pointer:
        footer_bits.append(f"/diff_{ctx.article_number}")
    footer = " · ".join(footer_bits)

    def more_line(k: int) -> str:
        noun = "paragraph" if k == 1 else "paragraphs"
        where = f"/diff_{ctx.article_number}" if ctx.article_number is not None else "/diff"
        tail = f" — {where}" if pointer else " (too long for one message)"
        return f"and {k} more {noun} changed{tail}"

    def assemble(top: list[str], blocks: list[str], rest: int) -> str:
        parts = list(top)
        if blocks:
            parts += ["", *blocks]
        if rest:
            parts.append(more_line(rest))
        parts.append(footer)
        return "\n".join(parts)

    def fits(message: str) -> bool:
        return limits.fits(message, m.html, source=True)

    headlines = sorted((c for c in changes if c.kind in _TITLE_KINDS), key=lambda c: c.kind != "headline")
    paragraphs = [c for c in changes if c.kind not in _TITLE_KINDS]
    counts = [part for part in summary.split(", ") if part != "headline changed"]
    # which article, when the headline is unchanged
    shows_headline = any(c.kind == "headline" for c in headlines)
    title_line = [m.italic(_cut(ctx.title, 200))] if ctx.title and not shows_headline else []
    top = [header([*sig.tags, *counts]), *title_line]
    blocks: list[str] = []
    shown = 0
    for idx, c in enumerate([*headlines, *paragraphs]):
        # checked together with the "and N more" line the message would need if we stopped
        # after this block, so stopping later can only make the message shorter
        rest = len(changes) - idx - 1
        chosen = None
        for variant in _block_variants(c, m, style):
            if c.kind in _TITLE_KINDS:
                candidate = assemble([*top, variant], blocks, rest)
            else:
                candidate = assemble(top, [*blocks, variant], rest)
            if fits(candidate):
                chosen = variant
                break
        if chosen is None:
            break
        if c.kind in _TITLE_KINDS:
            top.append(chosen)
        else:
            blocks.append(chosen)
        shown += 1
    message = assemble(top, blocks, len(changes) - shown)
    if not fits(message):  # only a pathological title or site name can get here
        message = assemble([f"✏️ {m.esc(summary)}"], [], len(changes))

    def seen(message: str) -> int:
        """What the budget counts: the visible text (all of it, when there is no markup)."""
        return visible_len(message) if m.html else len(message)

    if budget is None or not paragraphs or seen(message) <= budget:
        return message

    # The digest. The headline change is always shown in full: it is the story.
    headline_lines = top[1 + len(title_line) :]
    top = [header(sig.tags or ["edited"]), *title_line, *headline_lines, ""]
    top.append(m.esc(_summary_line(paragraphs, ctx.paragraphs)))
    coarse = [_coarsen(c.segments, 3) if c.segments else [] for c in paragraphs]
    units = _units(paragraphs, coarse)
    old_text, new_text = _others(paragraphs)
    runs = [len(_hunks(segs)) for segs in coarse]

    def digest(chosen: Sequence[_Unit], style: tuple[int, int, int]) -> str:
        by_para: dict[int, list[tuple[int, int]]] = {}
        for u in chosen:
            by_para.setdefault(u.para, [])
            if u.hunk is not None:
                by_para[u.para].append(u.hunk)
        # reading order: ¶1 before ¶2, whatever order the runs were chosen in
        order = sorted(by_para, key=lambda k: (_position(paragraphs[k]), k))
        lines = [
            _excerpt(
                paragraphs[k],
                coarse[k],
                by_para[k],
                m,
                style,
                new_text if paragraphs[k].kind == "removed" else old_text,
            )
            for k in order
        ]
        rest_paras = len(paragraphs) - len(by_para)
        # runs left out of the paragraphs shown; a paragraph not shown counts once, above
        rest_runs = sum(runs[k] - len(by_para[k]) for k in by_para if paragraphs[k].segments)
        return "\n".join(
            [*top, *lines, *([more(rest_paras, rest_runs)] if rest_paras or rest_runs else []), footer]
        )

    def more(paras: int, runs: int) -> str:
        if not runs:
            return more_line(paras)
        where = f"/diff_{ctx.article_number}" if ctx.article_number is not None else "/diff"
        tail = f" — {where}" if pointer else " (too long for one message)"
        bits = [f"{paras} more paragraph{'s' if paras != 1 else ''} changed"] if paras else []
        bits.append(f"{runs} more change{'s' if runs != 1 else ''} not shown")
        return "and " + ", ".join(bits) + tail

    def within(message: str) -> bool:
        return (
            seen(message) <= budget and fits(message) and limits.count_entities(message) <= _DIGEST_ENTITIES
        )

    best: tuple[int, str] | None = None
    for style in _EXCERPTS:
        chosen: list[_Unit] = []
        for u in units:
            if within(digest([*chosen, u], style)):
                chosen.append(u)
        candidate = digest(chosen, style)
        if within(candidate) and (best is None or len(chosen) > best[0]):
            best = (len(chosen), candidate)
    if best is not None:
        return best[1]
    # not even one excerpt fits beside the headline: the summary and the pointer to /diff
    short = digest([], _EXCERPTS[-1])
    return short if fits(short) else message


def render_announcement(changes: list[Change], ctx: MessageContext, budget: int = DEFAULT_BUDGET) -> str:
    """The announcement of one new version, in Telegram HTML, at most ``budget`` visible
    characters unless the headline alone takes more."""
    return _render(changes, ctx, _Markup(), _ANNOUNCE, pointer=True, budget=budget)


def render_plain(changes: list[Change], ctx: MessageContext, budget: int = DEFAULT_BUDGET) -> str:
    """The same announcement without markup (deleted [-like this-], inserted {+like this+})."""
    return _render(changes, ctx, _Plain(), _ANNOUNCE, pointer=True, budget=budget)


def render_diff(changes: list[Change], ctx: MessageContext) -> str:
    """For /diff: more context around each change, same limits."""
    return _render(changes, ctx, _Markup(), _FULL, pointer=False)
