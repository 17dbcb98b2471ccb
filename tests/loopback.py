"""An aiohttp server on 127.0.0.1 at a free port, used as ``async with``: the base of the fake
chat platforms (Telegram's Bot API, Zalo's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from aiohttp import web


@dataclass(kw_only=True, eq=False)
class Fault:
    """A fault in force from its creation until ``end()`` or the end of its ``with`` block."""

    hits: int = field(default=0, init=False)  # calls it answered or delayed
    in_force: list[Fault] = field(repr=False)  # the fake's faults in force

    def __post_init__(self) -> None:
        self.in_force.append(self)

    def end(self) -> None:
        if self in self.in_force:
            self.in_force.remove(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.end()


class LoopbackServer:
    """Subclasses add their routes in `routes`; `port` is known once started."""

    client_max_size = 1024**2  # aiohttp's default request body limit
    shutdown_timeout = 1.0

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application(client_max_size=self.client_max_size)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.shutdown_timeout)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
