"""Typed callback data for the inline buttons, packed into a few bytes.

Telegram rejects ``callback_data`` over 64 bytes, so nothing large (file ids, prompts) goes in
here: the images are found again from the message the button is on and the sketch it replies to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

MAX_CALLBACK_BYTES = 64

MODELS = ("balanced", "quality")
STRENGTHS = (20, 30, 45)  # percent: light, normal, strong
DEFAULT_STRENGTH = 30
_MODEL_CODES = {"balanced": "b", "quality": "q"}
_CODE_MODELS = {code: model for model, code in _MODEL_CODES.items()}


class Action(StrEnum):
    """What a button does."""

    REFINE = "r"  # on a colored image: refine it
    STRENGTH = "s"  # on a colored image: choose the strength the refine buttons use
    PNG = "p"  # on a colored image: send the full-resolution PNG file
    LAYER = "l"  # on a colored image: send the color layer without the lines
    AGAIN = "a"  # on a refined image: refine that image once more
    RESEED = "n"  # on a refined image: refine the colored image with another seed


@dataclass(frozen=True)
class ButtonData:
    """One button's meaning; ``pack()`` gives its ``callback_data``, ``parse()`` reads it back."""

    action: Action
    model: str = "balanced"
    strength: int = DEFAULT_STRENGTH

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.strength not in STRENGTHS:
            raise ValueError(f"strength must be one of {STRENGTHS}, got {self.strength!r}")

    @property
    def strength_value(self) -> float:
        """The strength as the refine server takes it (0.1–0.5)."""
        return self.strength / 100

    def pack(self) -> str:
        """``"r:q:45"``: action, model code, strength in percent."""
        return f"{self.action}:{_MODEL_CODES[self.model]}:{self.strength}"

    @classmethod
    def parse(cls, data: str | None) -> ButtonData | None:
        """The button behind ``data``, or None for data this bot did not make."""
        parts = (data or "").split(":")
        if len(parts) != 3 or parts[1] not in _CODE_MODELS or not parts[2].isdigit():
            return None
        try:
            return cls(Action(parts[0]), _CODE_MODELS[parts[1]], int(parts[2]))
        except ValueError:
            return None


def for_actions(*actions: Action) -> Callable[[object], bool]:
    """A ``CallbackQueryHandler`` pattern: true for this bot's buttons of one of ``actions``."""

    def matches(data: object) -> bool:
        parsed = ButtonData.parse(data) if isinstance(data, str) else None
        return parsed is not None and parsed.action in actions

    return matches
