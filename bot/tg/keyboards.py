"""bot.messages.buttons keyboards as Telegram's InlineKeyboardMarkup (the one place that turns
our plain ``(label, data)`` rows into PTB objects)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

__all__ = ["markup", "show_in_place", "turn_page"]


def markup(keyboard: Sequence[Sequence[Sequence[str]]] | None) -> InlineKeyboardMarkup | None:
    """None for no buttons (Telegram then shows, or after an edit keeps, none)."""
    rows = [
        [InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in keyboard or []
    ]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def turn_page(query: CallbackQuery, text: str, keyboard: Sequence[Sequence[Sequence[str]]]) -> None:
    """Show another page in the message the button sits under (edited in place)."""
    await query.answer()
    await show_in_place(query, text, keyboard)


async def show_in_place(query: CallbackQuery, text: str, keyboard: Sequence[Sequence[Sequence[str]]]) -> None:
    """Edit the message a button sits under; a press that changes nothing (the page or the
    choice shown already, two quick taps) leaves it as it is, as Telegram requires."""
    try:
        await query.edit_message_text(text, reply_markup=markup(keyboard))
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise
