"""/diff's answer: every change, in up to three chat messages, else one HTML document.

Pure (versions in, what to send out). The messages come from ``render_diff``, one message per
group of changes packed in order; a group counts as shown only when every removed and added
word of its changes stands in the message, struck or marked, uncut. When three messages cannot
hold that, the whole diff goes out as a document (``bot.messages.document``), so a big rewrite is never
cut short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from html.parser import HTMLParser

from bot.core.diff import Change, diff_snapshots, summarize
from bot.core.extract import Snapshot
from bot.messages import replies
from bot.messages.announcement import MessageContext, render_diff
from bot.messages.document import DocumentContext, document_filename, render_document
from bot.messages.records import ArticleRecord, VersionRecord

__all__ = ["MAX_MESSAGES", "DiffDocument", "answer_diff", "shows_every_word", "whole_diff"]

MAX_MESSAGES = 3
"""More than this many messages for one /diff floods a chat; a document reads better."""


@dataclass(frozen=True)
class DiffDocument:
    """The whole diff as a file to send, with its caption (Telegram HTML)."""

    filename: str
    html: str
    caption: str


class _Runs(HTMLParser):
    """The visible text inside each struck (<s>), marked (<b>) and italic (<i>) run."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: dict[str, list[str]] = {"s": [], "b": [], "i": []}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.append(tag)
        if tag in self.runs:
            self.runs[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for tag in reversed(self._open):
            if tag in self.runs:
                self.runs[tag][-1] += data
                return


def _words(text: str) -> str:
    return " ".join(text.split())


def _in_order(stream: list[str], wanted: Sequence[str]) -> bool:
    """Each wanted text inside one run, in this order (several may share a run)."""
    k, pos = 0, 0
    for text in wanted:
        while k < len(stream) and text not in stream[k][pos:]:
            k, pos = k + 1, 0
        if k == len(stream):
            return False
        pos = stream[k].index(text, pos) + len(text)
    return True


def shows_every_word(message: str, changes: Sequence[Change]) -> bool:
    """True when every removed word of ``changes`` is struck and every added word marked in
    ``message``, whole and in order; a pure move needs only its opening words."""
    parser = _Runs()
    parser.feed(message)
    parser.close()
    runs = {tag: [_words(t) for t in texts] for tag, texts in parser.runs.items()}
    ordered = [c for c in changes if c.kind == "headline"] + [c for c in changes if c.kind != "headline"]
    struck: list[str] = []
    marked: list[str] = []
    moved: list[str] = []
    for c in ordered:
        if c.kind == "added":
            marked.append(_words(c.new))
        elif c.kind == "removed":
            struck.append(_words(c.old))
        elif not c.segments:
            moved.append(" ".join(c.new.split()[:5]))
        for seg in c.segments:
            if seg.op != "equal" and seg.text.strip():
                (struck if seg.op == "delete" else marked).append(_words(seg.text))
    return _in_order(runs["s"], struck) and _in_order(runs["b"], marked) and _in_order(runs["i"], moved)


def _part(changes: list[Change], ctx: MessageContext, note: str) -> str | None:
    message = render_diff(changes, replace(ctx, note=note))
    return message if shows_every_word(message, changes) else None


def _messages(changes: list[Change], ctx: MessageContext) -> tuple[str, ...] | None:
    """Changes packed in order into as few messages as show them all; None past the limit."""
    whole = _part(changes, ctx, ctx.note)
    if whole is not None:
        return (whole,)
    groups: list[list[Change]] = []
    widest = f"Part {MAX_MESSAGES} of {MAX_MESSAGES}"
    for change in changes:
        if groups and _part([*groups[-1], change], ctx, widest) is not None:
            groups[-1].append(change)
            continue
        if len(groups) == MAX_MESSAGES or _part([change], ctx, widest) is None:
            return None
        groups.append([change])
    parts = [_part(group, ctx, f"Part {k} of {len(groups)}") for k, group in enumerate(groups, 1)]
    return tuple(p for p in parts if p is not None) if all(parts) else None


def _caption(changes: list[Change], ctx: DocumentContext) -> str:
    summary = summarize(changes)
    which = f"#{ctx.article_number} " if ctx.article_number is not None else ""
    return (
        f"📄 Every change in {which}v{ctx.old_version} → v{ctx.new_version} ({summary}): "
        "too many for the chat, so here they are as a page. Open it in any browser."
    )


def whole_diff(changes: Sequence[Change], ctx: DocumentContext) -> tuple[str, ...] | DiffDocument:
    """Up to ``MAX_MESSAGES`` messages that show every change, else one document."""
    ordered = [c for c in changes if c.kind == "headline"] + [c for c in changes if c.kind != "headline"]
    elapsed = ctx.new_at - ctx.old_at if ctx.new_at is not None and ctx.old_at is not None else None
    message_ctx = MessageContext(
        site=ctx.site,
        url=ctx.url,
        title=ctx.title,
        old_version=ctx.old_version,
        new_version=ctx.new_version,
        elapsed=elapsed,
        article_number=ctx.article_number,
    )
    messages = _messages(ordered, message_ctx)
    if messages is not None:
        return messages
    return DiffDocument(
        filename=document_filename(ctx.site, ctx.url, ctx.old_version, ctx.new_version),
        html=render_document(ordered, ctx),
        caption=_caption(ordered, ctx),
    )


def answer_diff(
    number: int, article: ArticleRecord, versions: Sequence[VersionRecord], args: Sequence[str]
) -> str | tuple[str, ...] | DiffDocument:
    """What /diff says: "/diff N" compares the last two versions, "/diff N A B" any two."""
    by_number = {v.number: v for v in versions}
    last = max(by_number)
    if len(args) <= 1:  # "/diff 2", or "/diff" in reply to an announcement
        if last == 1:
            return replies.only_one_version(number)
        a, b = last - 1, last
    elif len(args) == 3 and all(x.lstrip("v").isdigit() for x in args[1:]):
        a, b = (int(x.lstrip("v")) for x in args[1:])
    else:
        return replies.USAGE["diff"]
    missing = [n for n in (a, b) if n not in by_number]
    if missing:
        return replies.no_such_version(number, last, missing[0])
    old = Snapshot.from_dict(by_number[a].content)
    new = Snapshot.from_dict(by_number[b].content)
    changes = diff_snapshots(old, new)
    if not changes:
        return replies.same_text(number, a, b)
    ctx = DocumentContext(
        site=article.site,
        url=article.url,
        title=new.title,
        old_version=a,
        new_version=b,
        old_paragraphs=old.paragraphs,
        new_paragraphs=new.paragraphs,
        old_at=by_number[a].created_at,
        new_at=by_number[b].created_at,
        article_number=number,
    )
    return whole_diff(changes, ctx)
