"""In-flight refines on disk (SQLite in ``BOT_DATA_DIR``), so that no refine is lost to a restart.

A refine is recorded before its caption says "⏳ Refining…" and forgotten once its user has the
result or an explanation. Whatever is still recorded at start-up was cut off (a crash, SIGKILL,
a shutdown past its grace period): its caption is put back and its user asked to tap again.
SQLite ships with Python: nothing to install, one small file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

FILE_NAME = "refines.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS refines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    button TEXT NOT NULL,
    caption TEXT,
    caption_entities TEXT NOT NULL,
    reply_markup TEXT,
    started_at REAL NOT NULL
)
"""


class StoreUnavailable(RuntimeError):
    """The shared store (Redis) cannot be reached; the refine cannot be recorded."""


@dataclass(frozen=True)
class InFlight:
    """One refine under way: the tapped message, the button, and how to put its caption back.

    ``caption_entities`` and ``reply_markup`` are Bot API JSON (``to_dict()`` of PTB objects).
    """

    chat_id: int
    message_id: int
    button: str
    caption: str | None
    caption_entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    started_at: float
    id: int | None = None


class FlightStore(Protocol):
    """What the refine flow needs of a store: :class:`RefineStore` (SQLite, one bot) or
    :class:`bot.services.redis_refine_store.RedisRefineStore` (Redis, replicas)."""

    async def add(self, flight: InFlight) -> int: ...

    async def finish(self, flight_id: int) -> None: ...

    async def unfinished(self) -> list[InFlight]: ...

    async def first_on(self, chat_id: int, message_id: int) -> InFlight | None: ...


class RefineStore:
    """The in-flight table; calls are quick, and run in a thread to keep the event loop free."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / FILE_NAME
        # Where an unreadable database was moved (kept for the operator); None when all was well.
        self.moved_aside: Path | None = None
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as err:
            logger.warning("%s is unreadable (%s); moving it aside", self.path, err)
            self.moved_aside = self._move_aside()
            self._db = self._open()
        self._lock = asyncio.Lock()

    def _open(self) -> sqlite3.Connection:
        # Chat ids and prompts: readable by the bot's user only (SQLite gives its -wal and -shm
        # files the database's mode).
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(self.path, 0o600)
        # One connection, used from worker threads one call at a time (the lock).
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            (verdict,) = db.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {verdict}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                source.replace(aside.with_name(aside.name + suffix))
        return aside

    async def _run(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        async with self._lock:
            return await asyncio.to_thread(self._db.execute, sql, args)

    async def add(self, flight: InFlight) -> int:
        """Record ``flight``; its id."""
        cursor = await self._run(
            "INSERT INTO refines (chat_id, message_id, button, caption, caption_entities,"
            " reply_markup, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                flight.chat_id,
                flight.message_id,
                flight.button,
                flight.caption,
                json.dumps(flight.caption_entities),
                json.dumps(flight.reply_markup) if flight.reply_markup is not None else None,
                flight.started_at or time.time(),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def finish(self, flight_id: int) -> None:
        """Forget a refine whose user has an answer."""
        await self._run("DELETE FROM refines WHERE id = ?", (flight_id,))

    async def unfinished(self) -> list[InFlight]:
        """Every refine still recorded, oldest first."""
        return await self._select("")

    async def first_on(self, chat_id: int, message_id: int) -> InFlight | None:
        """The oldest refine still under way on this message (its caption is the original)."""
        found = await self._select(" WHERE chat_id = ? AND message_id = ?", (chat_id, message_id))
        return found[0] if found else None

    async def _select(self, where: str, args: tuple[Any, ...] = ()) -> list[InFlight]:
        cursor = await self._run(
            "SELECT id, chat_id, message_id, button, caption, caption_entities, reply_markup,"
            f" started_at FROM refines{where} ORDER BY id",
            args,
        )
        rows = await asyncio.to_thread(cursor.fetchall)
        return [
            InFlight(
                id=row[0],
                chat_id=row[1],
                message_id=row[2],
                button=row[3],
                caption=row[4],
                caption_entities=json.loads(row[5]),
                reply_markup=json.loads(row[6]) if row[6] is not None else None,
                started_at=row[7],
            )
            for row in rows
        ]

    def close(self) -> None:
        self._db.close()
