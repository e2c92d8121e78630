"""What ``redline chats`` prints for the operator (pure: rows in, plain text out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ChatRow(Protocol):
    id: int
    type: str
    title: str
    paused: bool
    managing: int | None
    articles: list[tuple[int, str, int | None]]  # (number, url, the user who tracked it)


def chats_report(chats: Sequence[ChatRow]) -> str:
    """One block per chat: id, type, title, state, then its articles with their owners."""
    if not chats:
        return "No chats yet: nobody has talked to the bot."
    owners = {user for chat in chats for _n, _u, user in chat.articles if user is not None}
    total = sum(len(chat.articles) for chat in chats)
    lines = [f"{len(chats)} chats, {total} subscriptions, {len(owners)} owners"]
    for chat in chats:
        state = " · paused" if chat.paused else ""
        manages = f" · manages channel {chat.managing}" if chat.managing is not None else ""
        title = f" {chat.title!r}" if chat.title else ""
        count = len(chat.articles)
        lines.append("")
        lines.append(
            f"{chat.id} {chat.type}{title}{state}{manages} · {count} article{'s' if count != 1 else ''}"
        )
        for number, url, user in chat.articles:
            owner = f"user {user}" if user is not None else "owner unknown"
            lines.append(f"  #{number} {url} · {owner}")
    return "\n".join(lines)
