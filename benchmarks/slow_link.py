"""A slow link for benchmarks: a TCP proxy in front of a server that holds every chunk for a
fixed one-way delay (so a round trip costs twice that, as to a cloud region), and counts the
round trips (each time the client speaks again after the server answered) and connections."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass


@dataclass
class LinkCounts:
    round_trips: int = 0
    connections: int = 0


class SlowLink:
    """``SlowLink(port, delay_ms)``: listens on ``self.port`` (127.0.0.1) and forwards to
    ``port``; runs in a thread of its own until ``close()``."""

    def __init__(self, port: int, delay_ms: float) -> None:
        self._target_port = port
        self._delay = delay_ms / 1000.0
        self.counts = LinkCounts()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-link", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, client_r, client_w) -> None:
        self.counts.connections += 1
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self._target_port)
            state = {"answered": True}
            await asyncio.gather(
                self._pipe(client_r, server_w, state, from_client=True),
                self._pipe(server_r, client_w, state, from_client=False),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            # closed by close(): end normally, since asyncio's stream callback in Python 3.11
            # asks a cancelled handler for its exception and prints a traceback
            client_w.close()

    async def _pipe(self, reader, writer, state: dict, from_client: bool) -> None:
        queue: asyncio.Queue = asyncio.Queue()

        async def read() -> None:
            while True:
                try:
                    data = await reader.read(65536)
                except (ConnectionError, OSError):  # a reset ends the stream like a close
                    data = b""
                if data and from_client:
                    if state["answered"]:
                        self.counts.round_trips += 1
                    state["answered"] = False
                elif data:
                    state["answered"] = True
                await queue.put((time.monotonic() + self._delay, data))
                if not data:
                    return

        async def write() -> None:
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    writer.close()
                    return
                try:
                    writer.write(data)
                    await writer.drain()
                except (ConnectionError, OSError):
                    return

        await asyncio.gather(read(), write(), return_exceptions=True)

    def take_counts(self) -> LinkCounts:
        """The counts since the last call."""
        counts, self.counts = self.counts, LinkCounts()
        return counts

    def close(self) -> None:
        async def shut() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=2)

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
