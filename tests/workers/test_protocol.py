"""Typed errors cross the worker boundary as data and come back as the same errors."""

from __future__ import annotations

import pytest

from inference.errors import HintsError, QueueFullError, SketchError, SketchProblem
from workers.protocol import WorkerError, decode_answer, encode_error


@pytest.mark.parametrize(
    "error",
    [
        SketchError(SketchProblem.TOO_MANY_PIXELS, size=50_000_000, limit=40_000_000),
        SketchError(SketchProblem.UNREADABLE, detail="permission denied"),
        SketchError(SketchProblem.EMPTY),
        HintsError("x and y must be finite numbers", index=2),
        HintsError("this model takes no color hints"),
        QueueFullError(12, 10),
    ],
    ids=repr,
)
def test_expected_errors_come_back_the_same(error):
    with pytest.raises(type(error)) as raised:
        decode_answer(encode_error(error))
    assert vars(raised.value) == vars(error)
    assert str(raised.value) == str(error)
    if isinstance(error, SketchError):
        assert raised.value.reason is error.reason  # the enum, not its string


def test_unexpected_errors_say_only_that_the_worker_failed():
    with pytest.raises(WorkerError) as raised:
        decode_answer(encode_error(MemoryError("secret path /home/x")))
    assert str(raised.value) == "the worker failed: MemoryError"
