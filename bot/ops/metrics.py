"""The figures of ``redline stats`` in Prometheus text format, served when ``[metrics] listen``
is set.

A scrape first writes this process's pending check counts, then reads the database, so what
Prometheus sees is what ``redline stats`` would print at that moment. The figures are read at
scrape time (a custom collector), never cached: nothing here runs between scrapes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy.engine import Engine

from bot.config import split_listen

if TYPE_CHECKING:
    from bot.storage.stats import CheckCounter

log = logging.getLogger("redline.metrics")


class MetricsError(Exception):
    """The metrics endpoint cannot be served; the message is shown as one line."""


def _gauge(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family


class RedlineCollector(Collector):
    def __init__(self, engine: Engine, counter: CheckCounter | None = None) -> None:
        self.engine = engine
        self.counter = counter

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from bot.storage.stats import (
            collect as read,  # the monitor and the extractor: not for every CLI start
        )

        if self.counter is not None:
            self.counter.flush(self.engine)
        s = read(self.engine)
        yield _gauge("redline_articles", "Articles by state.", "state", s.articles)
        yield GaugeMetricFamily(
            "redline_articles_untracked", "Articles no chat tracks (deleted after keep_untracked_days).",
            value=s.untracked,
        )  # fmt: skip
        yield _gauge("redline_checks_last_hour", "Checks in the last hour by outcome.", "outcome", s.checks)
        yield GaugeMetricFamily("redline_checks_overdue", "Checks due and not started.", value=s.overdue)
        yield GaugeMetricFamily(
            "redline_check_overdue_seconds",
            "How late the oldest overdue check is (0 when the scheduler keeps up).",
            value=s.oldest_overdue.total_seconds() if s.oldest_overdue else 0.0,
        )
        yield _gauge("redline_deliveries", "Announcements in the outbox by status.", "status", s.deliveries)
        yield GaugeMetricFamily(
            "redline_delivery_oldest_pending_seconds",
            "How long the oldest pending announcement has been due (0 when none).",
            value=s.oldest_pending.total_seconds() if s.oldest_pending else 0.0,
        )
        yield _gauge("redline_chats", "Chats by state.", "state", s.chats)
        yield GaugeMetricFamily("redline_database_bytes", "Database size on disk.", value=s.database_bytes)


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) → (host, port)."""
    address = split_listen(listen)
    if address is None:
        raise MetricsError(f"metrics.listen must be host:port, like 127.0.0.1:9464, not {listen!r}")
    return address


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(listen: str, engine: Engine, counter: CheckCounter | None = None) -> MetricsServer:
    """Serve /metrics on ``listen`` from a daemon thread (prometheus_client's WSGI server)."""
    host, port = parse_listen(listen)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedlineCollector(engine, counter))
    try:
        server, thread = start_http_server(port, host, registry=registry)
    except OSError as exc:
        raise MetricsError(f"cannot serve metrics on {listen}: {exc.strerror or exc}") from None
    log.info("metrics_listening address=%s:%s", host, server.server_address[1])
    return MetricsServer(server, thread)
