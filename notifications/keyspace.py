"""One deployment's share of a Redis server: every key and channel it names starts with its prefix.

Pub/sub channels ignore the Redis database number, and two deployments may even share a database
number, so the prefix, not the database, keeps deployments apart: without it a deployment receives
another's live events and notifications and counts its callers against the other's rate limits.
The product reaches Redis only through `Keyspace` (an import-linter contract in pyproject.toml), so a
new key or channel cannot leave the prefix out.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final
from urllib.parse import urlsplit

import redis.asyncio as redis
from redis.asyncio.connection import Connection, parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
        self._lane = _Lane.of(self._client.connection_pool)

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
        run = self._client.evalsha if self._lane is None else self._lane.evalsha
        try:
            return await run(sha, numkeys, *args)
        except NoScriptError:
            self._shas[script] = await self._client.script_load(script)
            return await run(self._shas[script], numkeys, *args)

    async def peek(self, key: str) -> int:
        """The count of `key` (0 if none), counting nothing."""
        return int(await self._client.get(self.name(key)) or 0)

    async def ping(self) -> None:
        await self._client.ping()

    async def aclose(self) -> None:
        if self._lane is not None:
            self._lane.close()
        await self._client.aclose()


class _Lane:
    """One connection of its own that carries `Keyspace._script`'s EVALSHA commands (a bid's rate-limit count and
    live publication, issue 21) pipelined: a command is written at once and its future waits in line; Redis answers
    in the order it was asked, so each reply read resolves the oldest future. redis-py spends about 70 us of CPU a
    command around the round trip (its pool's lock and health check, the retry wrapper, the parser's coroutines;
    bench/README.md, issue 21 (15)); here a command is one write and one future.

    Used for a plain TCP connection (`redis://`), as redis-py would open it: the URL's user, password and database,
    its `socket_connect_timeout` and `socket_timeout`. Errors are redis-py's: a lost connection fails every command
    in line with its ConnectionError (the next command connects again), a command past `socket_timeout` closes the
    connection with TimeoutError, an error reply is a ResponseError (NoScriptError for NOSCRIPT). TLS and Unix
    sockets keep redis-py's client (`of` gives None).

    A failed command is not sent again. Its callers already handle the failure: the rate limit lets the request
    through, and a publication Redis did not acknowledge has no mark, so the outbox's live consumer publishes it.
    redis-py retried a command of a lost connection up to ten times with backoffs of up to a second (a bid held for
    seconds while Redis restarts), and a count Redis had done before the connection went was counted twice."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self._host = str(kwargs.get("host") or "localhost")
        self._port = int(kwargs.get("port") or 6379)
        hello: list[tuple[str | int, ...]] = []
        if kwargs.get("password"):
            user = (kwargs["username"],) if kwargs.get("username") else ()
            hello.append(("AUTH", *user, kwargs["password"]))
        if int(kwargs.get("db") or 0):
            hello.append(("SELECT", int(kwargs["db"])))
        self._hello = hello
        self._connect_timeout: float | None = kwargs.get("socket_connect_timeout")
        self._timeout: float | None = kwargs.get("socket_timeout")
        self._wire: _Wire | None = None
        self._connecting: asyncio.Lock | None = None

    @classmethod
    def of(cls, pool: Any) -> _Lane | None:
        kwargs = getattr(pool, "connection_kwargs", None)
        if getattr(pool, "connection_class", None) is not Connection or kwargs is None:
            return None
        return cls(kwargs)

    async def evalsha(self, sha: str, numkeys: int, *args: str | int) -> Any:
        return await self.call("EVALSHA", sha, numkeys, *args)

    async def call(self, *command: str | int | bytes) -> Any:
        wire = self._wire
        if wire is None or wire.gone is not None:
            wire = await self._connect()
        reply = wire.send(command)
        if self._timeout is None:
            return await reply
        try:
            async with asyncio.timeout(self._timeout):
                return await reply
        except TimeoutError:
            wire.close(RedisTimeoutError(f"Timeout reading from {self._host}:{self._port}"))
            raise RedisTimeoutError(f"Timeout reading from {self._host}:{self._port}") from None

    async def _connect(self) -> _Wire:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._wire is not None and self._wire.gone is None:
                return self._wire
            try:
                async with asyncio.timeout(self._connect_timeout):
                    _, wire = await asyncio.get_running_loop().create_connection(_Wire, self._host, self._port)
            except (OSError, TimeoutError) as error:
                raise RedisConnectionError(f"Error connecting to {self._host}:{self._port}: {error}") from error
            try:
                for command in self._hello:  # before any other command: the connection is not lent until done
                    async with asyncio.timeout(self._connect_timeout):
                        await wire.send(command)
            except BaseException as error:
                wire.close(RedisConnectionError(f"Error connecting to {self._host}:{self._port}: {error}"))
                raise
            self._wire = wire
            return wire

    def close(self) -> None:
        wire, self._wire = self._wire, None
        if wire is not None:
            wire.close(RedisConnectionError("Connection closed by the client"))


class _Wire(asyncio.Protocol):
    """One TCP connection of a `_Lane`: the commands written, their replies read in order."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._buffer = bytearray()
        self.gone: RedisError | None = None  # why it can take no more commands

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def send(self, command: Sequence[str | int | bytes]) -> asyncio.Future[Any]:
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.gone is not None or self._transport is None:
            reply.set_exception(self.gone or RedisConnectionError("Not connected"))
            return reply
        self._waiting.append(reply)
        self._transport.write(_packed(command))
        return reply

    def close(self, error: RedisError) -> None:
        if self.gone is None:
            self.gone = error
        if self._transport is not None:
            self._transport.close()
        waiting, self._waiting = self._waiting, deque()
        for reply in waiting:
            if not reply.done():
                reply.set_exception(self.gone)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close(RedisConnectionError(f"Connection to Redis lost: {exc or 'closed by the server'}"))

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        at = 0
        try:
            while self._waiting:
                parsed = _reply(buffer, at)
                if parsed is None:
                    break
                value, at = parsed
                reply = self._waiting.popleft()
                if reply.done():  # its caller gave up (cancelled, timed out)
                    continue
                if isinstance(value, ResponseError):
                    reply.set_exception(value)
                else:
                    reply.set_result(value)
        except (RedisError, ValueError) as error:  # not RESP: nothing more on this connection can be trusted
            self.close(error if isinstance(error, RedisError) else RedisConnectionError(f"Redis sent no RESP: {error}"))
            return
        del buffer[:at]


def _packed(command: Sequence[str | int | bytes]) -> bytes:
    """A command as RESP's array of bulk strings."""
    parts = [b"*%d\r\n" % len(command)]
    for arg in command:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts += (b"$%d\r\n" % len(data), data, b"\r\n")
    return b"".join(parts)


def _reply(buffer: bytearray, at: int) -> tuple[Any, int] | None:
    """The RESP2 reply that starts at `at`, and where the next one starts; None if it is not all there yet."""
    end = buffer.find(b"\r\n", at)
    if end < 0:
        return None
    kind, line = buffer[at : at + 1], bytes(buffer[at + 1 : end])
    at = end + 2
    if kind == b":":
        return int(line), at
    if kind == b"+":
        return line, at
    if kind == b"-":
        text = line.decode(errors="replace")
        return (NoScriptError(text) if text.startswith("NOSCRIPT") else ResponseError(text)), at
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, at
        if len(buffer) < at + size + 2:
            return None
        return bytes(buffer[at : at + size]), at + size + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, at
        items = []
        for _ in range(count):
            item = _reply(buffer, at)
            if item is None:
                return None
            value, at = item
            items.append(value)
        return items, at
    raise RedisConnectionError(f"Redis sent {bytes(kind)!r}: not a RESP2 reply")


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
