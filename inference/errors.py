"""The exceptions callers of the colorize engine are expected to handle."""

from enum import StrEnum


class SketchError(ValueError):
    """The input cannot be used as a sketch; ``str(err)`` is a short message for a person."""


class WeightsError(ValueError):
    """A weights file is missing, unreadable or does not fit the generator; names the file."""


class QueueFullError(RuntimeError):
    """The inference queue is full; the caller should try again shortly."""


class HintsProblem(StrEnum):
    """Why color hints cannot be used (each front end words it its own way)."""

    MALFORMED = "malformed"  # the hints document, or its entry ``index``: ``problem`` says how
    NOT_ACCEPTED = "not_accepted"  # the model takes no color hints (trained without them)


class HintsError(ValueError):
    """Color hints that cannot be used: ``reason`` says why; for a malformed entry ``index`` is
    its position and ``problem`` what is wrong with it (a description of the JSON, fit for an
    API answer or a CLI line)."""

    def __init__(
        self,
        problem: str,
        *,
        index: int | None = None,
        reason: HintsProblem = HintsProblem.MALFORMED,
    ) -> None:
        self.problem = problem
        self.index = index
        self.reason = reason
        super().__init__(problem if index is None else f"hint {index}: {problem}")
