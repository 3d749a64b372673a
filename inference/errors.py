"""The exceptions callers of the colorize engine are expected to handle."""


class SketchError(ValueError):
    """The input cannot be used as a sketch; ``str(err)`` is a short message for a person."""


class WeightsError(ValueError):
    """A weights file is missing, unreadable or does not fit the generator; names the file."""


class QueueFullError(RuntimeError):
    """The inference queue is full; the caller should try again shortly."""


class HintsError(ValueError):
    """Color hints that cannot be used: a malformed entry (``index`` says which), or hints for
    a model that takes none (``index`` is None)."""

    def __init__(self, problem: str, *, index: int | None = None) -> None:
        self.problem = problem
        self.index = index
        super().__init__(problem if index is None else f"hint {index}: {problem}")
