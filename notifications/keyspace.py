"""One deployment's share of a Redis server: every key and channel it names starts with its prefix.

Pub/sub channels ignore the Redis database number, and two deployments may even share a database
number, so the prefix, not the database, keeps deployments apart: without it a deployment receives
another's live events and notifications and counts its callers against the other's rate limits.
The product reaches Redis only through `Keyspace` (an import-linter contract in pyproject.toml), so a
new key or channel cannot leave the prefix out.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final
from urllib.parse import urlsplit

import redis.asyncio as redis
from redis.asyncio.connection import parse_url
from redis.exceptions import NoScriptError, RedisError

__all__ = ["PREFIX_PATTERN", "Keyspace", "Listener", "RedisError", "default_prefix"]

PREFIX_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")  # no glob characters: SCAN patterns stay exact
DEFAULT_PORTS: Final = {"postgres": 5432, "mysql": 3306}
# how long a publication's mark outlives it: one key per bid (about 100 bytes; 30 MB at 1,000 bids/s), and an outbox
# worker five minutes behind publishes the bid again (the feeds drop repeats by sequence)
MARK_SECONDS: Final = 300
# INCR and EXPIRE as one command: one round trip and one reply, as atomic as the MULTI/EXEC it replaced (issue 21)
COUNT: Final = "local n = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], ARGV[1]) return n"
# messages published in order, each with its mark if it has one, in one command (`publish`); ARGV: the marks'
# lifetime, then per message its channel, its data, its mark's index in KEYS (0: none) and the mark's value
PUBLISH: Final = """local ttl = ARGV[1]
for i = 2, #ARGV, 4 do
  redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
  local k = tonumber(ARGV[i + 2])
  if k > 0 then redis.call('SET', KEYS[k], ARGV[i + 3], 'EX', ttl) end
end
return 0"""


def default_prefix(redis_url: str, database_url: str) -> str:
    """`palmtrade:<12 hex>`: equal for every process of a deployment (same Redis database number, same
    database), different for another Redis database number or another database.

    The Redis host is left out on purpose: deployments on different Redis servers cannot collide,
    and processes that reach one server by different addresses must still hear each other."""
    db = int(parse_url(redis_url).get("db") or 0)
    identity = f"redis-db={db}\ndatabase={_database_identity(database_url)}"
    return "palmtrade:" + hashlib.sha256(identity.encode()).hexdigest()[:12]


def _database_identity(url: str) -> str:
    """Where the deployment keeps its data, without credentials or options (scheme://host:port/name)."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme.startswith("sqlite"):
        path = rest.split("?", 1)[0]
        return f"sqlite:{path if path in ('', ':memory:') else os.path.abspath(path)}"
    family = "postgres" if scheme.startswith(("postgres", "asyncpg", "psycopg")) else scheme
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(family, 0)
    return f"{family}://{(parts.hostname or '').lower()}:{port}/{parts.path.lstrip('/')}"


class Keyspace:
    """A Redis client that names every key and channel `<prefix>:<name>`."""

    def __init__(self, url: str, prefix: str, **options: Any) -> None:
        if not PREFIX_PATTERN.fullmatch(prefix):
            raise ValueError(f"Redis prefix {prefix!r}: letters, digits and . _ : - only")
        self.prefix = prefix.rstrip(":")
        self._client = redis.from_url(url, **options)
        self._shas: dict[str, str] = {}  # script -> its SHA1 (EVALSHA)

    def name(self, *parts: str | int) -> str:
        return ":".join((self.prefix, *(str(p) for p in parts)))

    async def publish(self, messages: Sequence[tuple[str, str, tuple[str, int] | None]]) -> None:
        """Publishes each (channel, data, mark) in order; with a mark (key, value), sets the key to the value for
        `MARK_SECONDS` right after its message is published. One command (`PUBLISH`), in one round trip."""
        keys: list[str] = []
        args: list[str | int] = [MARK_SECONDS]
        for channel, data, mark in messages:
            if mark is None:
                args += (self.name(channel), data, 0, 0)
            else:
                keys.append(self.name(mark[0]))
                args += (self.name(channel), data, len(keys), mark[1])
        await self._script(PUBLISH, len(keys), *keys, *args)

    async def marks(self, keys: Sequence[str]) -> list[int | None]:
        """The values `publish` set for `keys` (None where none is set), in one round trip."""
        if not keys:
            return []
        values = await self._client.mget([self.name(k) for k in keys])
        return [None if v is None else int(v) for v in values]

    @asynccontextmanager
    async def subscription(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """The messages published to `channel` from the moment this is entered, until it is left."""
        async with self._client.pubsub() as pubsub:
            await pubsub.subscribe(self.name(channel))

            async def messages() -> AsyncIterator[bytes]:
                async for item in pubsub.listen():
                    if item.get("type") == "message":
                        yield item["data"]

            yield messages()

    @asynccontextmanager
    async def listener(self) -> AsyncIterator[Listener]:
        """One pub/sub connection whose channels and patterns change while it is read."""
        async with self._client.pubsub() as pubsub:
            yield Listener(self, pubsub)

    async def count(self, key: str, ttl_seconds: int) -> int:
        """Adds one to `key` and returns the count; the key expires `ttl_seconds` after its last count. One command
        (`COUNT`), in one round trip."""
        return int(await self._script(COUNT, 1, self.name(key), ttl_seconds))

    async def _script(self, script: str, numkeys: int, *args: str | int) -> Any:
        """Runs `script` by its SHA1 (EVALSHA), loading it where Redis does not know it (a restarted or flushed
        server) and running it again."""
        sha = self._shas.get(script) or self._shas.setdefault(
            script, hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
        )
        try:
            return await self._client.evalsha(sha, numkeys, *args)
        except NoScriptError:
            self._shas[script] = await self._client.script_load(script)
            return await self._client.evalsha(self._shas[script], numkeys, *args)

    async def peek(self, key: str) -> int:
        """The count of `key` (0 if none), counting nothing."""
        return int(await self._client.get(self.name(key)) or 0)

    async def ping(self) -> None:
        await self._client.ping()

    async def aclose(self) -> None:
        await self._client.aclose()


class Listener:
    """A pub/sub connection of the keyspace: names in and out are without the prefix.

    `read` returns what Redis sends in order: `("message", channel, data)`, `("pmessage", channel, data)`
    (through a pattern), and the confirmations `("subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe",
    name, None)`. A change is in force once its confirmation is read: Redis answers in the order it was asked.
    """

    def __init__(self, space: Keyspace, pubsub: Any) -> None:
        self._pubsub = pubsub
        self._name = space.name
        self._cut = len(space.prefix) + 1

    async def change(
        self,
        subscribe: Iterable[str] = (),
        unsubscribe: Iterable[str] = (),
        psubscribe: Iterable[str] = (),
        punsubscribe: Iterable[str] = (),
    ) -> None:
        """Sends the changes; their confirmations come through `read`."""
        for names, command in (
            (subscribe, self._pubsub.subscribe),
            (unsubscribe, self._pubsub.unsubscribe),
            (psubscribe, self._pubsub.psubscribe),
            (punsubscribe, self._pubsub.punsubscribe),
        ):
            full = [self._name(n) for n in names]
            if full:
                await command(*full)

    async def read(self) -> tuple[str, str, bytes | None]:
        while True:
            item = await self._pubsub.get_message(timeout=None)
            if item is None:
                continue
            kind = item["type"]
            name = item["channel"]  # a pattern's confirmation names the pattern here
            if isinstance(name, bytes):
                name = name.decode()
            if kind in ("message", "pmessage"):
                return kind, name[self._cut :], item["data"]
            if kind in ("subscribe", "unsubscribe", "psubscribe", "punsubscribe"):
                return kind, name[self._cut :], None
