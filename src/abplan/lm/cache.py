"""On-disk response cache (SQLite, WAL): answered requests and pending ones (for batch mode).

SQLite gives atomic commits and safe concurrent writers across processes; a killed run never
leaves a half-written entry, and neither does a full disk (the transaction is rolled back).

The client stores answers with `store`, a group commit: the answers that arrive in one turn of the
event loop are committed in one transaction, and each caller gets its answer back only once its row is
committed. So nothing built on an answer (a plan file, a report) can exist without the answer in the
cache, as with one commit per answer, but a busy run pays one commit per batch. Commits in WAL mode
with `synchronous=NORMAL` survive a killed process; only a power cut can lose the last ones.
A cache that cannot be used (not a database, a folder that is a file, a full disk) is a one-line
`ConfigError`/`ResourceError`, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from abplan.errors import ConfigError, ResourceError
from abplan.lm.types import LMRequest, LMResponse

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, request TEXT, response TEXT, created REAL);
CREATE TABLE IF NOT EXISTS pending (key TEXT PRIMARY KEY, model TEXT, request TEXT, created REAL);
"""


_GUARDED = (sqlite3.DatabaseError, ValueError, TypeError, KeyError)


class ResponseCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as e:
            raise ConfigError(f"cache folder {path.parent} is not a folder (set ABPLAN_CACHE_DIR)") from e
        if path.is_dir():
            raise ConfigError(f"LM cache {path} is a folder, not a database file")
        with self._guard():
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
            self._init_schema()
        self._queue: list[tuple[str, str, str, str, float]] = []
        self._committed: asyncio.Future[None] | None = None  # the group commit that `_queue` waits for

    def _init_schema(self) -> None:
        # Two processes creating the same new database race on the switch to WAL, and SQLite does not
        # wait on its busy handler there: retry for a while instead of failing.
        deadline = time.monotonic() + 60
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as e:
                if ("locked" not in str(e) and "busy" not in str(e)) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite's failures as one-line errors that say what to do."""
        try:
            yield
        except _GUARDED as e:
            raise self._error(e) from e

    def _error(self, e: Exception) -> Exception:
        """The one-line error `_guard` gives for `e` (one of `_GUARDED`)."""
        if isinstance(e, sqlite3.DatabaseError):
            msg = str(e)
            if "full" in msg:
                return ResourceError(f"no space left on the device writing the LM cache {self.path}")
            if isinstance(e, sqlite3.OperationalError) and ("locked" in msg or "busy" in msg):
                return ConfigError(f"LM cache {self.path} is locked by another process ({msg})")
            return ConfigError(
                f"LM cache {self.path} is unusable ({msg}): move it aside or set ABPLAN_CACHE_DIR"
            )
        return ConfigError(  # a row that is not our JSON
            f"LM cache {self.path} holds an unreadable entry ({type(e).__name__}): "
            "move it aside or set ABPLAN_CACHE_DIR"
        )

    @classmethod
    def in_dir(cls, cache_dir: Path) -> ResponseCache:
        return cls(cache_dir / "lm-cache.sqlite")

    def close(self) -> None:
        self._db.close()

    def get(self, key: str) -> LMResponse | None:
        try:  # `_guard` written out: it runs once per request, and a context manager is an object per call
            row = self._db.execute("SELECT response FROM responses WHERE key=?", (key,)).fetchone()
            return LMResponse.from_json(json.loads(row[0]), cached=True, key=key) if row else None
        except _GUARDED as e:
            raise self._error(e) from e

    def put(self, req: LMRequest, resp: LMResponse) -> None:
        self.put_raw(req.key, req.to_json(), resp)

    def put_raw(self, key: str, request: dict[str, Any], response: LMResponse) -> None:
        self._write([_row(key, request, response)])

    async def store(self, req: LMRequest, resp: LMResponse) -> None:
        """`put`, committed together with the other answers of this turn of the event loop; returns
        once the row is committed (and raises what the commit raised)."""
        loop = asyncio.get_running_loop()
        if self._committed is not None and self._committed.get_loop() is not loop:
            self._commit_queue()  # left by a loop that stopped before its turn ended (an interrupt)
        self._queue.append(_stored_row(req, resp))
        if self._committed is None:
            self._committed = loop.create_future()
            loop.call_soon(self._commit_queue)
        await asyncio.shield(self._committed)  # one caller's cancellation must not cancel the others'

    def _commit_queue(self) -> None:
        rows, done = self._queue, self._committed
        self._queue, self._committed = [], None
        assert done is not None
        try:
            self._write(rows)
        except Exception as e:
            done.set_exception(e)
            done.exception()  # retrieved here: the callers may all have been cancelled
        else:
            done.set_result(None)

    def _write(self, rows: list[tuple[str, str, str, str, float]]) -> None:
        with self._guard(), self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?,?,?,?,?)", rows)
            self._db.executemany("DELETE FROM pending WHERE key=?", [(r[0],) for r in rows])

    def evict(self, keys: list[str]) -> int:
        """Forget responses that proved unusable, so the next run asks again."""
        with self._guard(), self._db:
            self._db.execute("BEGIN IMMEDIATE")
            n = sum(self._db.execute("DELETE FROM responses WHERE key=?", (k,)).rowcount for k in keys)
        return n

    def add_pending(self, req: LMRequest) -> None:
        with self._guard():
            self._db.execute(
                "INSERT OR IGNORE INTO pending VALUES (?,?,?,?)",
                (req.key, req.model, json.dumps(req.to_json()), time.time()),
            )

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        with self._guard():
            rows = self._db.execute("SELECT key, request FROM pending ORDER BY created, key").fetchall()
            return [(k, json.loads(r)) for k, r in rows]

    def pending_request(self, key: str) -> dict[str, Any] | None:
        with self._guard():
            row = self._db.execute("SELECT request FROM pending WHERE key=?", (key,)).fetchone()
            return json.loads(row[0]) if row else None

    def clear_pending(self) -> int:
        with self._guard():
            return int(self._db.execute("DELETE FROM pending").rowcount)

    def __len__(self) -> int:
        with self._guard():
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def _row(key: str, request: dict[str, Any], response: LMResponse) -> tuple[str, str, str, str, float]:
    # ensure_ascii (the default) keeps even a lone surrogate storable: it is written as an escape.
    return key, request["model"], json.dumps(request), json.dumps(response.to_json()), time.time()


def _stored_row(req: LMRequest, response: LMResponse) -> tuple[str, str, str, str, float]:
    """`_row(req.key, req.to_json(), response)`, with the request's text made along with its key."""
    return req.key, req.model, req.stored_json, json.dumps(response.to_json()), time.time()
