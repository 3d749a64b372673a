"""The chat flow against the real Application and a local Bot API server."""

from __future__ import annotations

from conftest import sketch_bytes


async def test_start_says_what_to_send(telegram, bot):
    message = await telegram.send_text(42, "/start")
    [call] = await telegram.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)
    assert "sketch" in call.params["text"]
    assert message["message_id"]


async def test_photo_gets_colored_photo_with_keyboard(telegram, bot):
    sketch = await telegram.send_photo(42, sketch_bytes())
    call = await telegram.reply_to(sketch, "sendPhoto")
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    data = [button["callback_data"] for row in keyboard for button in row]
    assert data[:2] == ["r:b:30", "r:q:30"]
    assert call.files["photo"][:2] == b"\xff\xd8"  # a JPEG preview
