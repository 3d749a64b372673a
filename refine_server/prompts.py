"""The prompts every refinement starts from; the user's prompt is appended to the positive one."""

from __future__ import annotations

MAX_USER_PROMPT = 300

QUALITY_PROMPT = (
    "masterpiece, best quality, highly detailed, anime illustration, clean lineart, "
    "vibrant colors, soft shading"
)
NEGATIVE_PROMPT = (
    "lowres, worst quality, low quality, normal quality, jpeg artifacts, blurry, bad anatomy, "
    "bad hands, extra fingers, missing fingers, watermark, signature, text, username, "
    "monochrome, greyscale"
)


def build_prompt(user_prompt: str) -> str:
    """The anime quality prompt followed by the user's words (if any)."""
    user_prompt = " ".join(user_prompt.split())
    return f"{QUALITY_PROMPT}, {user_prompt}" if user_prompt else QUALITY_PROMPT
