"""GET /healthz on 127.0.0.1:HEALTH_PORT for a supervisor or a load balancer: 200 when the
database answers and this process's heartbeat is recent, 503 otherwise; the body says why.
A `--role poll` process has no scheduler, hence no heartbeat: the database decides alone."""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from messages import t
from models import Instance
from models.base import utcnow
from models.db import session_scope
from services.status import seconds, waiting

log = logging.getLogger(__name__)
ADDRESS = "127.0.0.1"
CHECK_SECONDS = 5.0  # a database that has not answered by then is taken as down


class Health:
    def __init__(
        self,
        engine: Engine,
        role: str,
        instance: str | None,
        dead_after: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.dead_after = dead_after
        self.role = role
        self.instance = instance
        self.clock = clock

    def check(self) -> tuple[int, dict[str, object]]:
        """The status code and the body: role, database, heartbeat age, rows waiting."""
        now = self.clock()
        body: dict[str, object] = {"role": self.role, "instance": self.instance, "database": False}
        try:
            with session_scope(self.engine) as session:
                body["waiting"] = waiting(session, now).as_json()
                row = session.get(Instance, self.instance) if self.instance else None
        except SQLAlchemyError as exc:
            body["error"] = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            return 503, body
        body["database"] = True
        age = now - row.heartbeat_at if row is not None else None
        body["heartbeat_age_seconds"] = seconds(age)
        if self.instance is None:
            return 200, body
        fresh = (
            row is not None
            and row.stopped_at is None
            and age is not None
            and age <= self.dead_after
        )
        return (200 if fresh else 503), body


class _HealthHandler(RequestHandler):
    def initialize(self, health: Health) -> None:
        self.health = health

    async def get(self) -> None:
        try:
            code, body = await asyncio.wait_for(asyncio.to_thread(self.health.check), CHECK_SECONDS)
        except TimeoutError:
            code, body = 503, {"role": self.health.role, "database": False, "error": "timeout"}
        self.set_status(code)
        self.write(body)  # a dict is written as JSON


def _unlogged(handler: RequestHandler) -> None:
    """Probes come every few seconds: only failures are logged."""
    if handler.get_status() >= 500:
        log.warning("/healthz answered %d", handler.get_status())


class HealthServer:
    """The endpoint on the running event loop; port 0 takes a free port (`port` says which)."""

    def __init__(self, health: Health, port: int) -> None:
        application = Application(
            [(r"/healthz", _HealthHandler, {"health": health})], log_function=_unlogged
        )
        self.server = HTTPServer(application)
        sockets = bind_sockets(port, ADDRESS)
        self.server.add_sockets(sockets)
        self.port: int = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.stop()
        await self.server.close_all_connections()


def start_health(
    port: int | None, engine: Engine, role: str, instance: str | None, dead_after: timedelta
) -> HealthServer | None:
    """Serve /healthz when HEALTH_PORT is set. A port already taken (another instance on this
    machine) is logged, and the process runs on without it."""
    if port is None:
        return None
    try:
        server = HealthServer(Health(engine, role, instance, dead_after), port)
    except OSError as exc:
        log.error(t("health.port_busy", port=port, reason=exc.strerror or exc))
        return None
    log.info("health check on http://%s:%d/healthz", ADDRESS, server.port)
    return server
