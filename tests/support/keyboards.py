"""Every keyboard the bot can send, built with the bot's own builders."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.keyboards import MODELS, STRENGTHS, colored_keyboard, refined_keyboard


def all_keyboards() -> list[InlineKeyboardMarkup]:
    """Every keyboard the bot can send (for checking the callback data limits)."""
    keyboards = [colored_keyboard(s) for s in STRENGTHS]
    keyboards += [refined_keyboard(m, s) for m in MODELS for s in STRENGTHS]
    return keyboards
