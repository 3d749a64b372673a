"""The web app: the seed's HTTP API (``pixelpainter serve``), the region editor page, and the
Telegram Mini App endpoints the bot serves with it. Needs aiohttp and ``inference`` only."""
