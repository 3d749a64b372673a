"""Fixtures for the web app tests: a sketch with closed areas, and the app on a tiny model."""

from __future__ import annotations

import pytest

from webapp.app import create_app
from webapp.state import WebAppConfig


@pytest.fixture
def make_client(aiohttp_client, tiny_colorizer):
    """``await make_client(config=..., **create_app_kwargs)``: a test client on a real server."""

    async def make(config: WebAppConfig | None = None, **kwargs):
        kwargs.setdefault("colorizer", tiny_colorizer)
        return await aiohttp_client(create_app(config, **kwargs))

    return make


@pytest.fixture
async def client(make_client):
    return await make_client()
