"""Every text a person sees, in one place so the wording is reviewed together."""

from __future__ import annotations

import math

from inference.errors import SketchError, SketchProblem

# ---- /start and /help ----
START = (
    "Hi! I color anime sketches. 🎨\n\n"
    "Send me a line-art sketch as a photo, or as a file (📎 → File) for full quality. "
    "I reply with a colored version and a few buttons:\n"
    "• Refine · Balanced / Quality: a Stable Diffusion pass that adds shading and detail\n"
    "• light / normal / strong: how much the refinement may change the picture\n"
    "• Full-res PNG and Color layer: the result as a file, or the colors without the lines\n\n"
    'Add a caption such as "silver hair, red eyes" to steer the refinement.'
)
HELP = START

# ---- what we accept ----
UNSUPPORTED = (
    "I can only color pictures. Send a sketch as a photo, or as a PNG, JPEG, WebP, BMP or GIF "
    "file for full quality."
)
NOT_ALLOWED = "Sorry, this bot is private."
TOO_LARGE = "This file is too big ({mb:.0f} MB). Please send one under {limit:.0f} MB."
SKETCH_EMPTY = "This file is empty. Please send a PNG, JPEG or WebP sketch."
SKETCH_UNREADABLE = "This file is not an image I can read. Please send a PNG, JPEG or WebP sketch."
SKETCH_DAMAGED = "This image is damaged or incomplete. Please save it again and resend it."
SKETCH_TOO_MANY_PIXELS = (
    "This image is too large ({mp:.0f} megapixels). Please send one under {limit:.0f} megapixels."
)
BUSY = "I'm very busy right now. Please send your sketch again in a minute."

# ---- while working ----
QUEUE_POSITION = "You are #{position} in line…"
QUEUE_YOUR_TURN = "Coloring your sketch now…"

# ---- rate limit ----
RATE_LIMITED = "You've sent a lot of sketches. Please come back in {wait}."

# ---- refine ----
MODEL_LABELS = {"balanced": "Balanced", "quality": "Quality"}
STRENGTH_LABELS = {20: "light", 30: "normal", 45: "strong"}
REFINE_BUTTON = "✨ Refine · {model}"
STRENGTH_BUTTON = "{label} {value:.2f}"
STRENGTH_SELECTED = "✓ {label} {value:.2f}"
PNG_BUTTON = "🖼 Full-res PNG"
LAYER_BUTTON = "🎨 Color layer"
EDIT_COLORS_BUTTON = "🖌 Edit colors"
AGAIN_BUTTON = "🔁 Refine this again"
RESEED_BUTTON = "🎲 Another seed"
STYLE_BUTTON = "🎭 Other style"
STYLE_LABELS = {"cel": "flat colors", "soft": "soft shading"}
STYLE_STARTED = "Coloring it with {style}…"
STYLE_CAPTION = "🎭 The same sketch with {style}"

STRENGTH_SET = "Refine strength: {label} ({value:.2f})"
REFINE_STARTED = "Refining with {model}…"
REFINING = "⏳ Refining with {model}…"
REFINING_QUEUED = "⏳ Refining with {model}… ({ahead} ahead of you on the GPU)"
REFINED_CAPTION = "✨ {model} · strength {strength:.2f} · seed {seed} · {seconds:.1f} s"
REFINE_OFFLINE = (
    "The refine server is asleep right now 😴 Your colored image above is ready to use; "
    "try refining again later."
)
REFINE_BUSY = "The refine server is busy. Please try again in {wait}."
REFINE_TIMEOUT = (
    "The refine server took too long and the refine was stopped. Please try again later."
)
REFINE_REJECTED = "The refine server could not use this image: {reason}"
REFINE_SERVER_ERROR = (
    "The refine server ran into a problem on its side 🛠 Please try again later; "
    "your colored image above is ready to use."
)
REFINE_BAD_ANSWER = (
    "The refine server sent back something that is not a picture 🛠 Please try again later; "
    "your colored image above is ready to use."
)
REFINE_UNAVAILABLE = (
    "Refining is unavailable right now. Your colored image above is ready to use; "
    "the admins have been told."
)
REFINE_RESTARTING = (
    "I'm restarting, so this refine was stopped. Please tap the button again in a minute."
)
REFINE_TAP_AGAIN = "I was restarted while refining this picture. Please tap the button again."
REFINE_TRY_AGAIN = "I can't start refining right now. Please tap the button again in a moment."
SKETCH_GONE = "I can't find the original sketch any more. Please send it again."
MESSAGE_TOO_OLD = "That message is too old for me to edit. Please send the sketch again."
FILE_PNG = "colored.png"
FILE_LAYER = "color-layer.png"

# ---- Mini App (the color editor) ----
EDITED_CAPTION = "🖌 Edited in the color editor"
FILE_EDITED = "edited.png"
MINIAPP_START_FIRST = "start a chat with the bot first (send it /start), then send again"

# ---- errors ----
SOMETHING_FAILED = "Sorry, something went wrong on my side. Please try again."

# ---- admins ----
ADMIN_ONLY = "This command is for admins."
SETURL_USAGE = "Usage: /seturl <https://…> or /seturl auto"
SETURL_NOT_SAFE = (
    "Not set: the refine server must be an https:// address (http:// only on this machine), "
    "so REFINE_TOKEN and users' images never travel in clear."
)
SETURL_DONE = "Refine server URL set to {url} until the next restart."
SETURL_AUTO = "Refine server URL: back to automatic discovery ({source})."
ADMIN_REFINE_DOWN = "⚠️ Refine server is offline ({url}): {reason}"
ADMIN_REFINE_UP = "✅ Refine server is back online: {url}"
ADMIN_STORE_RESET = (
    "⚠️ The in-flight refines database in BOT_DATA_DIR was unreadable; it was moved to {path} "
    "and the bot started with a new one. Refines cut off before this start cannot be answered."
)
ADMIN_DISCOVERY_REJECTED = (
    "⚠️ The refine server's discovery document was rejected: {reason}. "
    "Its URL is not used. If the refine server did not publish it, someone else rewrote the "
    "npoint document; check REFINE_TOKEN on both sides."
)
STATUS = (
    "🤖 Bot\n"
    "uptime: {uptime}\n"
    "colorize queue: {queue}\n"
    "inference p50: {p50}\n"
    "images colored: {done}\n"
    "requests today: {today}"
)
# INFERENCE_BACKEND=celery: the shared queue and the workers alive.
STATUS_WORKERS = "\ncolorize workers: {workers}\njobs waiting for a worker: {waiting}"
# One block per refine server.
STATUS_REFINE = (
    "\n\n✨ Refine server {name}\n"
    "url: {url} ({source})\n"
    "health: {health}\n"
    "gpu: {gpu}\n"
    "models: {models}\n"
    "queue: {refine_queue}"
)


def sketch_problem(err: SketchError) -> str:
    """What to tell the sender of a sketch the engine refused (by the error's reason)."""
    size, limit = err.size or 0, err.limit or 0
    match err.reason:
        case SketchProblem.EMPTY:
            return SKETCH_EMPTY
        case SketchProblem.TRUNCATED:
            return SKETCH_DAMAGED
        case SketchProblem.TOO_MANY_PIXELS:
            return SKETCH_TOO_MANY_PIXELS.format(mp=size / 1e6, limit=limit / 1e6)
        case SketchProblem.FILE_TOO_LARGE:
            return TOO_LARGE.format(mb=size / 1_048_576, limit=limit / 1_048_576)
    return SKETCH_UNREADABLE


def duration(seconds: float) -> str:
    """A wait a person can read: "40 seconds", "3 minutes", "2 h 5 min"."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} second" + ("s" if seconds != 1 else "")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"
