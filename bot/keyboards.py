"""Inline keyboards: pure builders that only return markup."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot import texts
from bot.callbacks import DEFAULT_STRENGTH, MODELS, STRENGTHS, Action, ButtonData


def _button(text: str, data: ButtonData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def colored_keyboard(
    strength: int = DEFAULT_STRENGTH, edit_url: str | None = None
) -> InlineKeyboardMarkup:
    """Under a colored image: refine (two models), strength choice, PNG file, color layer, the
    other color style, and with ``edit_url`` the color editor (a Mini App; private chats only)."""
    refine_row = [
        _button(
            texts.REFINE_BUTTON.format(model=texts.MODEL_LABELS[model]),
            ButtonData(Action.REFINE, model, strength),
        )
        for model in MODELS
    ]
    strength_row = [
        _button(
            (texts.STRENGTH_SELECTED if value == strength else texts.STRENGTH_BUTTON).format(
                label=texts.STRENGTH_LABELS[value], value=value / 100
            ),
            ButtonData(Action.STRENGTH, strength=value),
        )
        for value in STRENGTHS
    ]
    file_row = [
        _button(texts.PNG_BUTTON, ButtonData(Action.PNG, strength=strength)),
        _button(texts.LAYER_BUTTON, ButtonData(Action.LAYER, strength=strength)),
        _button(texts.STYLE_BUTTON, ButtonData(Action.STYLE, strength=strength)),
    ]
    rows = [refine_row, strength_row, file_row]
    if edit_url:
        rows.append([InlineKeyboardButton(texts.EDIT_COLORS_BUTTON, web_app=WebAppInfo(edit_url))])
    return InlineKeyboardMarkup(rows)


def edit_url_of(markup: InlineKeyboardMarkup | None) -> str | None:
    """The color editor's address on a keyboard, to keep it when the keyboard is rebuilt."""
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            if button.web_app is not None:
                return button.web_app.url
    return None


def refined_keyboard(model: str, strength: int) -> InlineKeyboardMarkup:
    """Under a refined image: refine it once more, or redo it with another seed."""
    return InlineKeyboardMarkup(
        [
            [
                _button(texts.AGAIN_BUTTON, ButtonData(Action.AGAIN, model, strength)),
                _button(texts.RESEED_BUTTON, ButtonData(Action.RESEED, model, strength)),
            ]
        ]
    )
