"""Metrics, in the Prometheus text format at `GET /metrics` (prometheus-client).

One `Metrics` per app, on a registry of its own (no process-global state: two apps in one
process, as the tests run them, count apart). What is counted where:

    a2a_requests_total{method,version,code}   app.py: every POST to the endpoint; `code` is
                                              ok, a JSON-RPC error code, or the HTTP status
                                              of a refusal (401, 403, 413, 429)
    a2a_request_duration_seconds{method}      app.py (a stream's: until it closes)
    a2a_open_streams                          app.py
    a2a_time_to_first_frame_seconds{method}   app.py: a stream's first frame on the wire
    a2a_frames_sent_total{version}            app.py: frames sent on streams
    a2a_turn_duration_seconds                 actor.py: a turn, from its start to its end
    a2a_tickets_settled_total{state}          actor.py: resolved, failed, expired
    a2a_push_deliveries_total{result}         push.py: delivered, retried, dropped
    a2a_store_operation_seconds{operation}    `timed_store`: every call of the store seam
    a2a_tasks{state}, a2a_tickets_pending     read from the store at each scrape (so they
                                              count every replica's tasks)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from a2a_server.model import TaskState
from a2a_server.store.base import TaskStore

__all__ = ["CONTENT_TYPE", "Metrics", "timed_store"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "a2a_requests", "JSON-RPC requests, by method, protocol version and result code",
            ["method", "version", "code"], registry=r,
        )
        self.request_seconds = Histogram(
            "a2a_request_duration_seconds", "Time to answer a request (a stream: until it closes)",
            ["method"], buckets=_SLOW, registry=r,
        )
        self.open_streams = Gauge("a2a_open_streams", "SSE streams open now", registry=r)
        self.first_frame_seconds = Histogram(
            "a2a_time_to_first_frame_seconds", "From a streaming request to its first frame on the wire",
            ["method"], buckets=_FAST + (5.0, 10.0), registry=r,
        )
        self.frames = Counter("a2a_frames_sent", "Frames sent on streams", ["version"], registry=r)
        self.turn_seconds = Histogram(
            "a2a_turn_duration_seconds", "A task's turn, from its start to its end", buckets=_SLOW, registry=r,
        )
        self.tickets_settled = Counter(
            "a2a_tickets_settled", "Deferred tool tickets settled, by how", ["state"], registry=r,
        )
        self.push = Counter(
            "a2a_push_deliveries", "Webhook POSTs: delivered, retried (to be sent again) or dropped",
            ["result"], registry=r,
        )
        self.store_seconds = Histogram(
            "a2a_store_operation_seconds", "Calls of the task store, by operation",
            ["operation"], buckets=_FAST, registry=r,
        )
        self.tasks = Gauge("a2a_tasks", "Tasks in the store, by state", ["state"], registry=r)
        self.tickets_pending = Gauge("a2a_tickets_pending", "Deferred tool tickets pending", registry=r)

    async def scrape(self, store: TaskStore) -> bytes:
        """The text exposition, with the store's counts read now."""
        counts = await store.counts()
        for state in TaskState:
            self.tasks.labels(state.value).set(counts.tasks.get(state.value, 0))
        self.tickets_pending.set(counts.pending_tickets)
        return generate_latest(self.registry)


_TIMED = (
    "create", "append", "submit", "claim", "renew", "inbox", "leases", "read", "load",
    "list_tasks", "open_tasks", "ticket", "tickets", "due_tickets", "memory", "remember",
    "put_push_config", "push_configs", "delete_push_config", "take_deliveries",
    "finish_delivery", "outbox_stats", "purge",
)


def timed_store(store: TaskStore, metrics: Metrics) -> TaskStore:
    """`store`, each call of its seam timed into `a2a_store_operation_seconds` (the streams,
    `watch` and `doorbell`, are not calls: they pass through)."""
    return _TimedStore(store, metrics)  # type: ignore[return-value]


class _TimedStore:
    def __init__(self, store: TaskStore, metrics: Metrics) -> None:
        self._store = store
        for name in _TIMED:
            setattr(self, name, _timed(getattr(store, name), metrics.store_seconds.labels(name).observe))

    def __getattr__(self, name: str) -> Any:  # everything else: the store's own
        return getattr(self._store, name)


def _timed(call: Callable[..., Any], observe: Callable[[float], None]) -> Callable[..., Any]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call(*args, **kwargs)
        finally:
            observe(time.perf_counter() - started)

    return timed
