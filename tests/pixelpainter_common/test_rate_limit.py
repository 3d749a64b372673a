"""The shared rolling-window limiter, in the web app's minute-only mode."""

import pytest

from pixelpainter_common.rate_limit import RateLimiter


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
