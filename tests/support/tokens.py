"""Secrets used by tests: shaped like real ones, so validators accept them, and never real."""

from __future__ import annotations

# "<bot id>:<35 characters>", the shape @BotFather issues.
BOT_TOKEN = "1234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
# At least 24 characters, as the refine server requires.
REFINE_TOKEN = "refine-test-token-0123456789"
NGROK_TOKEN = "ngrok-secret-authtoken-0123456789"
