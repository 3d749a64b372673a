"""Periodic work on PTB's job queue."""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.services.refine_client import RefineError
from bot.state import BotState, get_state

logger = logging.getLogger(__name__)


async def check_refine_health(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ping the refine server; admins hear once when an outage starts and once when it ends."""
    await refresh_refine_health(get_state(context))


async def refresh_refine_health(state: BotState) -> None:
    """One health check of the refine server, recorded in ``state.health``."""
    if not state.locator.configured:
        return
    try:
        url = await state.refine.check_health()
    except RefineError as err:
        await state.health.mark_down(state.locator.known_url, str(err))
    else:
        await state.health.mark_up(url)
