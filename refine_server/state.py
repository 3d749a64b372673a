"""Typed application state shared by the app factory and the route handlers."""

from __future__ import annotations

from aiohttp import web

from refine_server.refiner import Refiner
from refine_server.settings import Settings
from refine_server.worker import GpuWorker

SETTINGS_KEY = web.AppKey("settings", Settings)
REFINER_KEY = web.AppKey("refiner", Refiner)
WORKER_KEY = web.AppKey("worker", GpuWorker)
STARTED_KEY = web.AppKey("started_monotonic", float)
