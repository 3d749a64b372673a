import asyncio
import time

import pytest

from inference.colorizer import Colorizer
from inference.errors import QueueFullError, SketchError
from inference.service import InferenceService
from tests.support.sketches import sketch_bytes


class _SlowEngine:
    """The real tiny engine, 50 ms slower per call."""

    name = "slow"

    def __init__(self, engine):
        self.engine = engine

    def predict(self, batch):
        time.sleep(0.05)
        return self.engine.predict(batch)


async def test_concurrent_calls_all_return_and_are_batched(tiny_colorizer):
    async with InferenceService(tiny_colorizer, max_batch=4, batch_window_ms=20) as service:
        sizes = [(100 + 10 * i, 80 + 5 * i) for i in range(12)]
        results = await asyncio.gather(*(service.colorize(sketch_bytes(s)) for s in sizes))
        assert [r.image.size for r in results] == sizes
        assert service.images_done == 12
        assert service.batches_run < 12  # grouped into micro-batches
        assert service.queue_length == 0
        assert service.latency_p50_ms is not None and service.latency_p50_ms > 0


async def test_full_queue_errors_cleanly_and_the_rest_complete(tiny_colorizer):
    async with InferenceService(tiny_colorizer, max_batch=1, max_queue=3) as service:
        tasks = [asyncio.create_task(service.colorize(sketch_bytes((320, 200)))) for _ in range(6)]
        done = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [d for d in done if isinstance(d, BaseException)]
        assert len(errors) == 3 and all(isinstance(e, QueueFullError) for e in errors)
        assert errors[0].queued == 3 and errors[0].retry_after > 0
        assert sum(1 for d in done if not isinstance(d, BaseException)) == 3
        # Once drained, the service takes work again.
        assert (await service.colorize(sketch_bytes((320, 200)))).image.size == (320, 200)


async def test_positions_are_reported_until_processing(tiny_colorizer):
    seen: dict[int, list[int]] = {}
    all_reached_the_front = asyncio.Event()

    def tracker(i):
        async def on_position(ahead: int) -> None:
            seen.setdefault(i, []).append(ahead)
            if len(seen) == 5 and all(p[-1] == 0 for p in seen.values()):
                all_reached_the_front.set()

        return on_position

    slow = Colorizer(_SlowEngine(tiny_colorizer.engine))  # so callers surely queue up
    async with InferenceService(slow, max_batch=1, batch_window_ms=0) as service:
        await asyncio.gather(
            *(service.colorize(sketch_bytes((320, 200)), on_position=tracker(i)) for i in range(5))
        )
        # Position callbacks run in the background: wait until each caller heard "0 ahead".
        await asyncio.wait_for(all_reached_the_front.wait(), 10)
    assert max(max(p) for p in seen.values()) >= 2  # someone waited behind others
    for positions in seen.values():
        assert positions == sorted(positions, reverse=True)  # only ever moves forward


async def test_bad_sketch_fails_alone(tiny_colorizer):
    async with InferenceService(tiny_colorizer) as service:
        good, bad = await asyncio.gather(
            service.colorize(sketch_bytes((320, 200))),
            service.colorize(b"%PDF-1.4 nope"),
            return_exceptions=True,
        )
        assert isinstance(bad, SketchError)
        assert good.image.size == (320, 200)
        assert service.queue_length == 0


async def test_failing_position_callback_does_not_stop_the_queue(tiny_colorizer):
    async def broken(ahead: int) -> None:
        raise RuntimeError("chat went away")

    async with InferenceService(tiny_colorizer) as service:
        result = await service.colorize(sketch_bytes((320, 200)), on_position=broken)
        assert result.image.size == (320, 200)


async def test_must_be_started(tiny_colorizer):
    service = InferenceService(tiny_colorizer)
    with pytest.raises(RuntimeError, match="start"):
        await service.colorize(sketch_bytes((320, 200)))
    await service.close()


def test_errors_keep_their_data_through_pickling():
    """A worker in another process may raise them: the reason and numbers must survive."""
    import pickle

    from inference.errors import SketchProblem

    err = pickle.loads(pickle.dumps(SketchError(SketchProblem.FILE_TOO_LARGE, size=9, limit=5)))
    assert (err.reason, err.size, err.limit) == (SketchProblem.FILE_TOO_LARGE, 9, 5)
    full = pickle.loads(pickle.dumps(QueueFullError(3, 10)))
    assert (full.queued, full.retry_after) == (3, 10)
