"""The shared rolling-window limiter, in the web app's minute-only mode."""

import sys
from collections.abc import Callable
from types import FrameType

import pytest

from pixelpainter_common import rate_limit
from pixelpainter_common.rate_limit import DAY, RateLimiter


def test_minute_only_limit_by_any_key_frees_after_the_window():
    now = [1000.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    assert limiter.check("10.0.0.1") is None
    assert limiter.check("10.0.0.1") is None
    assert limiter.check("10.0.0.1") == pytest.approx(60.0)
    assert limiter.check(("tg", 42)) is None  # another client is not affected
    now[0] += 59.0
    assert limiter.check("10.0.0.1") == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.check("10.0.0.1") is None
    for _ in range(1000):  # no daily cap in this mode
        now[0] += 31.0
        assert limiter.check("10.0.0.1") is None


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="per_minute"):
        RateLimiter(per_minute=0)
    with pytest.raises(ValueError, match="per_day"):
        RateLimiter(per_minute=1, per_day=0)


def _steps_of(call: Callable[[], object]) -> int:
    """How many bytecode instructions of the limiter's module ``call`` runs (deterministic work)."""
    steps = 0

    def trace(frame: FrameType, event: str, arg: object) -> object:
        nonlocal steps
        if frame.f_code.co_filename != rate_limit.__file__:
            return None
        frame.f_trace_opcodes = True
        if event == "opcode":
            steps += 1
        return trace

    sys.settrace(trace)
    try:
        call()
    finally:
        sys.settrace(None)
    return steps


def test_a_check_costs_the_same_with_100k_clients():
    now = [0.0]
    limiter = RateLimiter(per_minute=5, per_day=100, clock=lambda: now[0])
    baseline = _steps_of(lambda: limiter.check("first"))
    for key in range(100_000):
        now[0] += 0.001  # 100 s in all: every client is still inside its day window
        if key % 2_000 == 0:  # measured across the range, so a scan per check fails early
            steps = _steps_of(lambda key=key: limiter.check(key))
            assert steps <= 2 * baseline, (key, steps, baseline)
        else:
            assert limiter.check(key) is None
    # A day later the 100k idle clients are forgotten, in one pass spread over the checks.
    now[0] += DAY
    assert limiter.check("late") is None
    assert len(limiter._clients) == 1
    assert _steps_of(lambda: limiter.check("later")) <= 2 * baseline
