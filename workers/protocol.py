"""What travels between a front end and a worker: the job, and the result or the typed error.

The job is a small JSON document (the sketch as bytes, which Celery's JSON carries as base64).
The answer is binary, pushed to a Redis list the caller waits on: a JSON header, then the raw
bytes of each array of the :class:`Colorized` (no image codec on either side: a 512² result is
~1.7 MB of plain memory copies). Expected errors (bad sketch, bad hints, ...) travel as their
type and data (reason and numbers), and are raised again in the caller as the same typed error.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from inference.colorizer import Colorized, Style
from inference.errors import HintsError, QueueFullError, SketchError, SketchProblem
from inference.hints import HintLike, as_hints

VERSION = 1
_HEADER = struct.Struct(">I")  # the JSON header's length
# ``image_array`` is not sent: it is ``layer × lines / 255``, rebuilt by the caller in ~1 ms.
_ARRAYS = ("layer_array", "lines_array", "raw_array", "regions")
# The errors a worker reports instead of failing its task: they are the input's fault, so the
# job is answered at once and never retried.
EXPECTED_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls for cls in (SketchError, HintsError, QueueFullError)
}


class WorkerError(RuntimeError):
    """A worker failed on a job in an unexpected way (the worker's log has the details)."""


def make_job(
    sketch: bytes,
    reply_to: str,
    *,
    style: Style | None = None,
    hints: Sequence[HintLike] | None = None,
) -> dict[str, Any]:
    """The task's argument; ``hints`` are checked here, so malformed ones never reach a queue."""
    checked = as_hints(hints)
    return {
        "v": VERSION,
        "sketch": bytes(sketch),
        "style": style,
        "hints": [[h.x, h.y, list(h.color)] for h in checked] or None,
        "reply_to": reply_to,
    }


def taken_key(reply_to: str) -> str:
    """The key a worker sets when it starts a job (so a caller can tell a lost job from a
    waiting one)."""
    return f"{reply_to}:taken"


def job_hints(job: dict[str, Any]) -> list[tuple[float, float, tuple[int, int, int]]] | None:
    """The job's hints as ``(x, y, (r, g, b))`` tuples, or None."""
    hints = job.get("hints")
    if not hints:
        return None
    return [(x, y, tuple(color)) for x, y, color in hints]


def encode_result(result: Colorized) -> bytes:
    """A worker's answer: header, then every array's bytes."""
    arrays = [np.ascontiguousarray(getattr(result, name)) for name in _ARRAYS]
    if arrays[-1].size and int(arrays[-1].max()) < 2**16:  # region ids: half the bytes
        arrays[-1] = arrays[-1].astype(np.uint16)
    header = {
        "ok": True,
        "style": result.style,
        "arrays": [
            [name, a.dtype.str, list(a.shape)] for name, a in zip(_ARRAYS, arrays, strict=True)
        ],
    }
    head = json.dumps(header).encode()
    return b"".join([_HEADER.pack(len(head)), head, *(a.tobytes() for a in arrays)])


def encode_error(err: BaseException) -> bytes:
    """A worker's answer for a job that failed: the expected error's type and its data.

    Each expected error keeps its data in attributes named as its constructor's parameters
    (``SketchError(reason, size=, limit=, detail=)``, ``HintsError(problem, index=)``,
    ``QueueFullError(queued, retry_after)``), so the caller builds the same error again.
    """
    name = type(err).__name__
    if name in EXPECTED_ERRORS:
        error = {"type": name, "data": {k: v for k, v in vars(err).items() if _is_json(v)}}
    else:  # the details stay in the worker's log; the caller learns only that it failed
        error = {"type": "WorkerError", "data": {"detail": f"the worker failed: {name}"}}
    head = json.dumps({"ok": False, "error": error}).encode()
    return _HEADER.pack(len(head)) + head


def decode_answer(data: bytes) -> Colorized:
    """The :class:`Colorized` a worker sent, or raise the error it reported (same type)."""
    (size,) = _HEADER.unpack_from(data)
    header = json.loads(data[_HEADER.size : _HEADER.size + size])
    if not header["ok"]:
        raise _rebuild(header["error"])
    # One writable copy for all arrays (np.frombuffer over bytes would be read-only).
    body = memoryview(bytearray(data[_HEADER.size + size :]))
    arrays: dict[str, np.ndarray] = {}
    offset = 0
    for name, dtype, shape in header["arrays"]:
        dt = np.dtype(dtype)
        count = int(np.prod(shape))
        arrays[name] = np.frombuffer(body, dt, count, offset).reshape(shape)
        offset += count * dt.itemsize
    arrays["regions"] = arrays["regions"].astype(np.int32)
    lines = cv2.cvtColor(arrays["lines_array"], cv2.COLOR_GRAY2RGB)
    image = cv2.multiply(arrays["layer_array"], lines, scale=1.0 / 255.0)  # as Colorizer.finish
    return Colorized(image_array=image, style=header["style"], **arrays)


def _rebuild(error: dict[str, Any]) -> Exception:
    data = dict(error["data"])
    if error["type"] not in EXPECTED_ERRORS:
        return WorkerError(data.get("detail", "the worker failed"))
    if error["type"] == "SketchError":
        data["reason"] = SketchProblem(data["reason"])
    return EXPECTED_ERRORS[error["type"]](**data)


def _is_json(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
