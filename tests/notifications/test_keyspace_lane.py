"""The keyspace's own connection for its scripts (notifications/keyspace.py `_Lane`): commands pipelined on one
connection, replies matched in order, redis-py's errors. Against the real Redis where one runs, and against a small
server in the test for what a real one will not do on cue (a reply cut in pieces, a connection dropped mid-command,
no answer at all)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from notifications.keyspace import Keyspace, _Lane, _packed, _reply
from tests.notifications.test_broker_namespaces import BASE_URL, _redis_reachable

REDIS = os.environ.get("PALMTRADE_CI_SERVICES") == "1" or _redis_reachable()
needs_redis = pytest.mark.skipif(not REDIS, reason=f"no Redis at {BASE_URL}")


@pytest.fixture
async def space() -> AsyncIterator[Keyspace]:
    keyspace = Keyspace(BASE_URL, f"test-lane-{uuid.uuid4().hex[:8]}")
    try:
        yield keyspace
    finally:
        await keyspace.aclose()


@needs_redis
async def test_counts_sent_at_once_on_one_connection_each_get_their_own_reply(space):
    assert space._lane is not None

    # when 300 counts of one key are sent at once
    counts = await asyncio.gather(*(space.count("many", 60) for _ in range(300)))

    # then each caller got its own count: 1..300, none twice, the key expiring as asked
    assert sorted(counts) == list(range(1, 301))
    assert 0 < await space._client.ttl(space.name("many")) <= 60
    assert await space.peek("many") == 300


@needs_redis
async def test_a_script_redis_forgot_is_loaded_again(space):
    # given a count, then Redis's scripts flushed (a restart, a failover to a fresh replica)
    assert await space.count("k", 60) == 1
    await space._client.script_flush()

    # then the next count loads the script again and counts on
    assert await space.count("k", 60) == 2


@needs_redis
async def test_a_connection_the_server_closed_is_opened_again_by_the_next_command(space):
    # given the lane's connection, killed by the server (a restart, an idle timeout, an operator)
    await space.count("k", 60)
    wire = space._lane._wire
    lane_id = await space._lane.call("CLIENT", "ID")
    assert await space._client.client_kill_filter(_id=lane_id) == 1
    for _ in range(100):
        if wire.gone is not None:
            break
        await asyncio.sleep(0.01)
    assert isinstance(wire.gone, RedisConnectionError)

    # then the next count opens a new one and counts on
    assert await space.count("k", 60) == 2
    assert await space._lane.call("CLIENT", "ID") != lane_id


@needs_redis
async def test_the_urls_user_password_and_database_are_used(space):
    # given a Redis user with a password, and a URL with it and database 3
    user, password = f"lane-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    admin = space._client
    await admin.acl_setuser(
        user, enabled=True, passwords=[f"+{password}"], keys=["*"], channels=["*"], commands=["+@all"]
    )
    server = urlsplit(BASE_URL)
    where = f"{server.hostname or '127.0.0.1'}:{server.port or 6379}"
    keyspace = Keyspace(f"redis://{user}:{password}@{where}/3", space.prefix)
    try:
        # when it counts
        assert await keyspace.count("db3", 60) == 1

        # then as that user, in database 3
        assert await keyspace._lane.call("ACL", "WHOAMI") == user.encode()
        check = redis.from_url(f"redis://{where}/3")
        try:
            assert await check.get(keyspace.name("db3")) == b"1"
            await check.delete(keyspace.name("db3"))
        finally:
            await check.aclose()

        # and a wrong password is refused as redis-py refuses it, nothing counted
        wrong = Keyspace(f"redis://{user}:wrong@{where}/3", space.prefix)
        with pytest.raises(ResponseError):
            await wrong.count("db3", 60)
        await wrong.aclose()
    finally:
        await keyspace.aclose()
        await admin.acl_deluser(user)


def test_tls_and_unix_sockets_keep_redis_pys_client():
    assert Keyspace("rediss://127.0.0.1:6380/0", "p")._lane is None
    assert Keyspace("unix:///tmp/redis.sock", "p")._lane is None
    assert Keyspace("redis://127.0.0.1:6379/0", "p")._lane is not None


def test_replies_are_read_whole_or_not_at_all():
    data = bytearray(b":12\r\n+OK\r\n$5\r\nhello\r\n$-1\r\n*2\r\n:1\r\n*1\r\n$2\r\nab\r\n-NOSCRIPT No matching\r\n")
    at, values = 0, []
    while at < len(data):
        parsed = _reply(data, at)
        assert parsed is not None
        value, at = parsed
        values.append(value)
    assert values[:5] == [12, b"OK", b"hello", None, [1, [b"ab"]]]
    assert isinstance(values[5], NoScriptError)
    # every proper prefix of a bulk string or an array is "not yet"
    for cut in range(1, len(b"*2\r\n:1\r\n*1\r\n$2\r\nab\r\n")):
        assert _reply(bytearray(b"*2\r\n:1\r\n*1\r\n$2\r\nab\r\n"[:cut]), 0) is None
    assert _packed(("EVALSHA", "abc", 1, b"k")) == b"*4\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$1\r\nk\r\n"


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _served(handler: Handler) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _command(reader: asyncio.StreamReader) -> list[bytes]:
    count = int((await reader.readline())[1:])
    parts = []
    for _ in range(count):
        size = int((await reader.readline())[1:])
        parts.append((await reader.readexactly(size + 2))[:-2])
    return parts


async def test_replies_cut_in_pieces_reach_their_callers_in_order():
    # given a server that answers each command with its number, in pieces a byte at a time
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = 0
        while True:
            try:
                await _command(reader)
            except (asyncio.IncompleteReadError, ValueError):
                return
            n += 1
            for byte in f"${len(str(n))}\r\n{n}\r\n".encode():
                writer.write(bytes([byte]))
                await writer.drain()

    server, port = await _served(handler)
    lane = _Lane({"host": "127.0.0.1", "port": port})
    try:
        answers = await asyncio.gather(*(lane.call("PING") for _ in range(20)))
        assert answers == [str(n).encode() for n in range(1, 21)]
    finally:
        lane.close()
        server.close()


async def test_a_connection_dropped_mid_command_fails_every_command_in_line_and_the_next_connects_again():
    # given a server that takes commands and, at the third, hangs up without answering any; then answers ":7"
    connections = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        if len(connections) == 1:
            for _ in range(3):
                await _command(reader)
            writer.close()
            return
        while True:
            try:
                await _command(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(b":7\r\n")

    server, port = await _served(handler)
    lane = _Lane({"host": "127.0.0.1", "port": port})
    try:
        results = await asyncio.gather(*(lane.call("INCR", "k") for _ in range(3)), return_exceptions=True)
        assert all(isinstance(r, RedisConnectionError) for r in results), results
        assert await lane.call("INCR", "k") == 7
        assert len(connections) == 2
    finally:
        lane.close()
        server.close()


async def test_no_answer_within_socket_timeout_is_redis_pys_timeout_and_closes_the_connection():
    # given a server that never answers
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    server, port = await _served(handler)
    lane = _Lane({"host": "127.0.0.1", "port": port, "socket_timeout": 0.2})
    try:
        with pytest.raises(RedisTimeoutError):
            await lane.call("PING")
        assert lane._wire is not None
        assert lane._wire.gone is not None
    finally:
        lane.close()
        server.close()


async def test_an_error_reply_is_a_response_error_and_the_connection_goes_on():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                name = (await _command(reader))[0]
            except asyncio.IncompleteReadError:
                return
            writer.write(b"-ERR unknown command\r\n" if name == b"NOPE" else b"+PONG\r\n")

    server, port = await _served(handler)
    lane = _Lane({"host": "127.0.0.1", "port": port})
    try:
        results: list[Any] = await asyncio.gather(lane.call("NOPE"), lane.call("PING"), return_exceptions=True)
        assert isinstance(results[0], ResponseError)
        assert results[1] == b"PONG"
    finally:
        lane.close()
        server.close()


async def test_nothing_reaches_redis_while_nothing_listens():
    lane = _Lane({"host": "127.0.0.1", "port": 1, "socket_connect_timeout": 0.5})
    with pytest.raises(RedisConnectionError):
        await lane.call("PING")
