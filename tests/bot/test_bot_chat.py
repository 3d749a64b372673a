"""The chat flow against the real Application and a local Bot API server."""

from __future__ import annotations

import asyncio
import io

import numpy as np
from PIL import Image
from telegram import Message

from bot import texts
from bot.services.progress import QueueNotice
from inference.images import encode_jpeg
from tests.support.sketches import sketch, sketch_bytes


async def test_start_says_what_to_send(telegram, bot):
    await telegram.send_text(42, "/start")
    [call] = await telegram.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)
    assert call.params["text"] == texts.START and "sketch" in call.params["text"]
    await telegram.send_text(42, "/help")
    calls = await telegram.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == 42, count=2
    )
    assert calls[1].params["text"] == texts.HELP


async def test_photo_gets_colored_photo_with_keyboard(telegram, bot):
    sketch = await telegram.send_photo(42, sketch_bytes())
    call = await telegram.reply_to(sketch, "sendPhoto")
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    data = [button["callback_data"] for row in keyboard for button in row]
    assert data[:2] == ["r:b:30", "r:q:30"]
    assert call.files["photo"][:2] == b"\xff\xd8"  # a JPEG preview


async def test_image_document_gets_colored(telegram, bot):
    sketch = await telegram.send_document(42, sketch_bytes(fmt="WEBP"), "sketch.webp", "image/webp")
    call = await telegram.reply_to(sketch, "sendPhoto")
    assert call.params["reply_markup"]["inline_keyboard"]


async def test_gif_document_uses_first_frame(telegram, bot, tiny_colorizer):
    first, second = sketch(seed=0, strokes=0), sketch(seed=7, strokes=6, line=5)
    buffer = io.BytesIO()
    first.save(buffer, format="GIF", save_all=True, append_images=[second], duration=100, loop=0)
    message = await telegram.send_document(42, buffer.getvalue(), "anim.gif", "image/gif")
    call = await telegram.reply_to(message, "sendPhoto")
    colors = np.asarray(Image.open(io.BytesIO(call.files["photo"])).convert("RGB"), np.int16)

    def preview_of(frame: Image.Image) -> np.ndarray:
        # What the bot replies with for a sketch that is this frame alone (the GIF's palette).
        as_gif = io.BytesIO()
        frame.save(as_gif, format="GIF")
        jpeg = encode_jpeg(tiny_colorizer.colorize(as_gif.getvalue()).image)
        return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), np.int16)

    assert np.abs(colors - preview_of(first)).max() <= 2
    assert np.abs(colors - preview_of(second)).mean() > 2


async def test_text_file_gets_explanation(telegram, bot):
    await telegram.send_document(42, b"hello", "notes.txt", "text/plain")
    [call] = await telegram.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)
    assert call.params["text"] == texts.UNSUPPORTED
    assert not telegram.sent(42, "sendPhoto")
    assert not any(c.method == "getFile" for c in telegram.calls)  # never downloaded


async def test_sticker_and_text_get_explanation(telegram, bot):
    await telegram.user_message(
        42,
        sticker={
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    )
    await telegram.send_text(42, "hello there")
    calls = await telegram.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == 42, count=2
    )
    assert all("photo" in c.params["text"] for c in calls)


async def test_corrupt_image_gets_clear_message(telegram, bot):
    broken = sketch_bytes()[:200]  # a truncated PNG
    await telegram.send_document(42, broken, "broken.png", "image/png")
    [call] = await telegram.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)
    assert "damaged" in call.params["text"] or "not an image" in call.params["text"]


async def test_postscript_named_png_is_not_an_image(telegram, bot):
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 32\nshowpage\n%%EOF\n"
    await telegram.send_document(42, eps, "looks.png", "image/png")
    [call] = await telegram.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)
    assert "not an image" in call.params["text"]


async def test_too_large_file_is_refused_before_download(telegram, make_settings, run_bot):
    async with run_bot(make_settings(max_image_mb=0.001)):
        await telegram.send_document(42, sketch_bytes((256, 256)), "big.png", "image/png")
        [call] = await telegram.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)
    assert "too big" in call.params["text"]
    assert not any(c.method == "getFile" for c in telegram.calls)


async def test_rate_limit_says_when_to_come_back(telegram, make_settings, run_bot):
    async with run_bot(make_settings(rate_limit_per_minute=2)):
        for _ in range(3):
            await telegram.send_photo(42, sketch_bytes())
        [call] = await telegram.wait_for(
            lambda c: c.method == "sendMessage" and "come back" in c.params["text"]
        )
        await telegram.wait_for(lambda c: c.method == "sendPhoto", count=2)
    assert "come back in 1 minute" in call.params["text"]
    assert len(telegram.sent(42, "sendPhoto")) == 2


async def test_every_button_that_may_colorize_counts_toward_the_limit(
    telegram, make_settings, run_bot
):
    async with run_bot(make_settings(rate_limit_per_minute=1, image_cache_mb=0)):
        sketch = await telegram.send_photo(42, sketch_bytes())
        colored = (await telegram.reply_to(sketch, "sendPhoto")).result
        for data in ("p:b:30", "l:b:30", "p:b:30", "c:b:30", "p:b:30", "l:b:30"):
            await telegram.tap(42, colored, data)
        alerts = await telegram.wait_for(
            lambda c: c.method == "answerCallbackQuery" and "come back" in c.params.get("text", ""),
            count=6,
        )
    assert all(a.params.get("show_alert") for a in alerts)
    assert not telegram.sent(42, "sendDocument")  # no tap colorized the sketch again
    assert len(telegram.sent(42, "sendPhoto")) == 1


async def test_allowed_user_ids_restrict_use(telegram, make_settings, run_bot):
    async with run_bot(make_settings(allowed_user_ids=[1])):
        await telegram.send_photo(2, sketch_bytes())
        [call] = await telegram.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 2)
        assert "private" in call.params["text"]
        await telegram.send_photo(1, sketch_bytes())
        await telegram.wait_for(lambda c: c.method == "sendPhoto" and c.chat_id == 1)
    assert not telegram.sent(2, "sendPhoto")


async def test_strength_and_file_buttons(telegram, bot):
    sketch = await telegram.send_photo(42, sketch_bytes())
    colored = (await telegram.reply_to(sketch, "sendPhoto")).result
    await telegram.tap(42, colored, "s:b:45")
    [edit] = await telegram.wait_for(lambda c: c.method == "editMessageReplyMarkup")
    rows = edit.params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for b in rows[0]] == ["r:b:45", "r:q:45"]
    assert rows[1][2]["text"].startswith("✓")
    await telegram.tap(42, colored, "p:b:45")
    await telegram.tap(42, colored, "l:b:45")
    docs = await telegram.wait_for(lambda c: c.method == "sendDocument", count=2)
    assert {d.files["__name__document"] for d in docs} == {b"colored.png", b"color-layer.png"}
    assert all(d.files["document"].startswith(b"\x89PNG") for d in docs)


async def test_twenty_users_at_once_all_answered(telegram, make_settings, run_bot):
    async with run_bot(make_settings(inference_max_batch=2)):
        sketches = [await telegram.send_photo(1000 + i, sketch_bytes()) for i in range(20)]
        for sketch in sketches:
            await telegram.reply_to(sketch, "sendPhoto", timeout=60)
    assert {c.chat_id for c in telegram.calls if c.method == "sendPhoto"} == {
        1000 + i for i in range(20)
    }
    assert not [
        c for c in telegram.calls if c.method == "sendMessage" and "wrong" in c.params["text"]
    ]


async def test_queue_notice_is_edited_then_removed(telegram, bot):
    sketch = Message.de_json(await telegram.send_photo(42, sketch_bytes()), bot.bot)
    notice = QueueNotice(sketch, delay_s=0.0, min_edit_interval_s=0.0)
    await notice.update(3)
    await telegram.wait_for(lambda c: c.method == "sendMessage")
    # The notice can be edited once the bot has read the sent message back: ask until it is.
    async with asyncio.timeout(5):
        while not telegram.sent(42, "editMessageText"):
            await notice.update(2)
            await asyncio.sleep(0.01)
    await notice.update(0)
    await notice.finish()
    texts_sent = [
        c.params["text"] for c in telegram.calls if c.method in ("sendMessage", "editMessageText")
    ]
    assert texts_sent == ["You are #3 in line…", "You are #2 in line…", "Coloring your sketch now…"]
    [sent] = telegram.sent(42, "sendMessage")
    [deleted] = telegram.sent(42, "deleteMessage")
    assert int(deleted.params["message_id"]) == sent.result["message_id"]


async def test_quick_results_get_no_queue_notice(telegram, bot):
    sketch = Message.de_json(await telegram.send_photo(42, sketch_bytes()), bot.bot)
    notice = QueueNotice(sketch, delay_s=0.05)
    await notice.update(2)
    await notice.update(0)
    await notice.finish()  # done before the delay: the notice must never appear
    await asyncio.sleep(0.3)  # proving an absence takes waiting past the delay
    assert not telegram.sent(42, "sendMessage")


async def test_other_style_button_sends_the_other_style(telegram, bot):
    sketch = await telegram.send_photo(42, sketch_bytes())
    colored = (await telegram.reply_to(sketch, "sendPhoto")).result
    keyboard = colored["reply_markup"]["inline_keyboard"]
    assert "c:b:30" in [button["callback_data"] for row in keyboard for button in row]
    await telegram.tap(42, colored, "c:b:30")
    [other] = await telegram.wait_for(
        lambda c: c.method == "sendPhoto" and "same sketch" in (c.params.get("caption") or "")
    )
    assert "soft shading" in other.params["caption"]  # the bot's default style is cel
    assert other.files["photo"][:2] == b"\xff\xd8"
