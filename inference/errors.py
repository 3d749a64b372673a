"""The exceptions callers of the colorize engine are expected to handle."""


class SketchError(ValueError):
    """The input cannot be used as a sketch; ``str(err)`` is a short message for a person."""


class WeightsError(ValueError):
    """A weights file is missing, unreadable or does not fit the generator; names the file."""


class QueueFullError(RuntimeError):
    """The inference queue is full; the caller should try again shortly."""
