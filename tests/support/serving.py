"""Serving a stub (an ASGI app) with uvicorn in the running event loop, on loopback: the one way every protocol stub
in tests/support starts and stops."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, ClassVar

import uvicorn


class LoopbackServed:
    """Mixin for a stub dataclass with `host`, `port`, `_server` and `_task` fields and a `base_url`."""

    label: ClassVar[str] = "the stub"
    host: str
    port: int
    _server: uvicorn.Server | None
    _task: asyncio.Task[None] | None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Serves on host:port (a free port the first time); returns once it accepts connections."""
        if self._server is not None:
            return
        if not self.port:
            with socket.socket() as s:
                s.bind((self.host, 0))
                self.port = int(s.getsockname()[1])
        app: Any = self
        config = uvicorn.Config(
            app, host=self.host, port=self.port, log_level="warning", access_log=False, lifespan="off"
        )
        server = uvicorn.Server(config)
        self._server, self._task = server, asyncio.create_task(server.serve())
        for _ in range(500):
            if server.started:
                return
            if self._task.done():
                break
            await asyncio.sleep(0.01)
        await self.stop()
        raise RuntimeError(f"{self.label} did not start on {self.base_url}")

    async def stop(self) -> None:
        """Stops serving: connections to its port are refused until start()."""
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def read_body(receive: Any) -> bytes:
    """The whole body of an ASGI HTTP request, however many messages it came in."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body
