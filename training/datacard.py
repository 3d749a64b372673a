"""A dataset folder's ``DATACARD.json``: what it is, and whether it may be trained on.

A builder marks a set reserved for independent evaluation with ``"use": "evaluation only"``
(the Ren'Py games, :mod:`training.datasets.renpy`). The trainer and the mix refuse such a folder
through :func:`is_evaluation_only`; ``python -m training.evaluate`` scores it as any other.
"""

from __future__ import annotations

import json
from pathlib import Path

CARD = "DATACARD.json"
EVALUATION_ONLY = "evaluation only"


def read_card(folder: Path) -> dict[str, object]:
    """The folder's data card, or ``{}`` when it has none (or one that is not a JSON object)."""
    try:
        card = json.loads((folder / CARD).read_text())
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def is_evaluation_only(folder: Path) -> bool:
    """Whether the folder's data card reserves it for evaluation (never train or tune on it)."""
    return read_card(folder).get("use") == EVALUATION_ONLY


def evaluation_only_refusal(folder: Path) -> str:
    """The one line that refuses to train on ``folder`` and says what it is for."""
    return (
        f'{folder}: its {CARD} says "use": "{EVALUATION_ONLY}": never train or tune on it; '
        f"score models on it with python -m training.evaluate --data {folder}"
    )
