"""The ``POST /refine`` form: read, validate, and turn every mistake into a 4xx ``ApiError``."""

from __future__ import annotations

import asyncio
import math
import secrets
from dataclasses import dataclass

from aiohttp import web
from multidict import MultiDictProxy
from PIL import Image

from refine_server import DEFAULT_MODEL, MODEL_NAMES
from refine_server.errors import ApiError
from refine_server.images import ImageTooLarge, NotAnImage, decode_image
from refine_server.prompts import MAX_USER_PROMPT

MIN_STRENGTH, MAX_STRENGTH, DEFAULT_STRENGTH = 0.1, 0.5, 0.3
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class RefineRequest:
    """A validated form: ``image``/``sketch`` RGB, ``strength`` in [0.1, 0.5], ``seed`` set."""

    image: Image.Image
    sketch: Image.Image | None
    model: str
    strength: float
    prompt: str
    seed: int


def _text(form: MultiDictProxy, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if isinstance(value, web.FileField):
        raise ApiError(400, f"'{name}' must be a plain form field, not a file")
    value = str(value).strip()
    return value or None


def _file_bytes(form: MultiDictProxy, name: str) -> bytes | None:
    value = form.get(name)
    if value is None:
        return None
    if isinstance(value, web.FileField):
        return value.file.read()
    raise ApiError(400, f"'{name}' must be a file upload (PNG, JPEG or WebP)")


def parse_model(value: str | None) -> str:
    model = (value or DEFAULT_MODEL).lower()
    if model not in MODEL_NAMES:
        choices = " or ".join(repr(name) for name in MODEL_NAMES)
        raise ApiError(400, f"unknown model {value!r}; use {choices}")
    return model


def parse_strength(value: str | None) -> float:
    if value is None:
        return DEFAULT_STRENGTH
    try:
        strength = float(value)
    except ValueError:
        strength = math.nan
    if not MIN_STRENGTH <= strength <= MAX_STRENGTH:  # also rejects NaN
        raise ApiError(
            400, f"strength must be a number from {MIN_STRENGTH} to {MAX_STRENGTH}, got {value!r}"
        )
    return strength


def parse_prompt(value: str | None) -> str:
    prompt = value or ""
    if len(prompt) > MAX_USER_PROMPT:
        raise ApiError(
            400, f"prompt is {len(prompt)} characters long; the limit is {MAX_USER_PROMPT}"
        )
    return prompt


def parse_seed(value: str | None) -> int:
    if value is None:
        return secrets.randbelow(MAX_SEED + 1)
    try:
        seed = int(value)
    except ValueError:
        seed = -1
    if not 0 <= seed <= MAX_SEED:
        raise ApiError(400, f"seed must be a whole number from 0 to {MAX_SEED}, got {value!r}")
    return seed


def _decode(data: bytes, name: str, max_pixels: int) -> Image.Image:
    try:
        return decode_image(data, max_pixels=max_pixels)
    except ImageTooLarge as exc:
        raise ApiError(413, f"'{name}' is too large: {exc}") from exc
    except NotAnImage as exc:
        raise ApiError(415, f"'{name}' is not a PNG, JPEG or WebP image") from exc


async def read_refine_request(request: web.Request, *, max_pixels: int) -> RefineRequest:
    """Parse the multipart form of ``POST /refine``; images decode off the event loop."""
    form = await request.post()  # bounded by client_max_size: larger bodies are a 413
    model = parse_model(_text(form, "model"))
    strength = parse_strength(_text(form, "strength"))
    prompt = parse_prompt(_text(form, "prompt"))
    seed = parse_seed(_text(form, "seed"))
    image_bytes = _file_bytes(form, "image")
    if not image_bytes:
        raise ApiError(400, "the form needs an 'image' file field (PNG, JPEG or WebP)")
    sketch_bytes = _file_bytes(form, "sketch")
    image = await asyncio.to_thread(_decode, image_bytes, "image", max_pixels)
    sketch = (
        await asyncio.to_thread(_decode, sketch_bytes, "sketch", max_pixels)
        if sketch_bytes
        else None
    )
    return RefineRequest(
        image=image, sketch=sketch, model=model, strength=strength, prompt=prompt, seed=seed
    )
