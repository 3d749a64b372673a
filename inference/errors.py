"""The exceptions callers of the colorize engine are expected to handle.

They carry data, not wording: each front end (the bot, the web app, the CLI) decides what a
person reads and which status or exit code goes with it. ``str(err)`` is a neutral description
for developers and logs.
"""

from __future__ import annotations

import functools
from enum import StrEnum


class SketchProblem(StrEnum):
    """Why an input cannot be used as a sketch (front ends map each to their own words)."""

    EMPTY = "empty"  # zero bytes
    NOT_AN_IMAGE = "not_an_image"  # no decoder recognises it (or a format that is not accepted)
    TRUNCATED = "truncated"  # the header decodes, the pixels do not
    TOO_MANY_PIXELS = "too_many_pixels"  # over the pixel limit: ``pixels``, ``limit``
    FILE_TOO_LARGE = "file_too_large"  # over the byte limit: ``size``, ``limit`` (bytes)
    UNREADABLE = "unreadable"  # a path that cannot be read (missing, permissions)


class SketchError(ValueError):
    """The input cannot be used as a sketch; ``reason`` says why.

    ``size`` and ``limit`` are the numbers behind ``TOO_MANY_PIXELS`` (pixels) and
    ``FILE_TOO_LARGE`` (bytes); ``detail`` is extra context for a log or a CLI line (an OS error).
    """

    def __init__(
        self,
        reason: SketchProblem,
        *,
        size: int | None = None,
        limit: int | None = None,
        detail: str = "",
    ) -> None:
        self.reason = reason
        self.size = size
        self.limit = limit
        self.detail = detail
        super().__init__(_describe(reason, size, limit, detail))

    def __reduce__(self) -> tuple[object, tuple[()]]:  # keyword arguments survive pickling
        rebuild = functools.partial(
            SketchError, self.reason, size=self.size, limit=self.limit, detail=self.detail
        )
        return rebuild, ()


def _describe(reason: SketchProblem, size: int | None, limit: int | None, detail: str) -> str:
    text = reason.value.replace("_", " ")
    if size is not None and limit is not None:
        text += f" ({size:,} > {limit:,})"
    return f"{text}: {detail}" if detail else text


class WeightsError(ValueError):
    """A weights file is missing, unreadable or does not fit the generator; names the file."""


class QueueFullError(RuntimeError):
    """The inference queue is full: ``queued`` requests are waiting; retry after ``retry_after``
    seconds."""

    def __init__(self, queued: int, retry_after: int) -> None:
        self.queued = queued
        self.retry_after = retry_after
        super().__init__(f"queue full ({queued} waiting); retry after {retry_after} s")

    def __reduce__(self) -> tuple[object, tuple[int, int]]:
        return QueueFullError, (self.queued, self.retry_after)


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

    def __reduce__(self) -> tuple[object, tuple[()]]:  # keyword arguments survive pickling
        rebuild = functools.partial(HintsError, self.problem, index=self.index, reason=self.reason)
        return rebuild, ()
