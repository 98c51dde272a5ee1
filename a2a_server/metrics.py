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

import bisect
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from a2a_server.model import TaskState
from a2a_server.store.base import TaskStore

__all__ = ["CONTENT_TYPE", "Metrics", "timed_store"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# The values live in plain Python numbers, updated on the event loop (the only thread that
# counts), and become prometheus-client's metric families only when scraped: its own
# Counter and Histogram take a lock per update (and a histogram one per bucket), which was
# a tenth of the CPU of a `message/send` on the memory store.


class _Family:
    def __init__(self, name: str, doc: str, labels: Sequence[str], make: Callable[[], Any]) -> None:
        self.name, self.doc, self.label_names = name, doc, tuple(labels)
        self._make = make
        self.children: dict[tuple[str, ...], Any] = {}
        if not labels:
            self.children[()] = make()

    def labels(self, *values: str) -> Any:
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = self._make()
        return child


class _Count:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def set(self, value: float) -> None:
        self.value = value


class _Spread:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last: above every bound (+Inf)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value


class _Counter(_Family):
    kind: type[CounterMetricFamily | GaugeMetricFamily] = CounterMetricFamily

    def __init__(self, name: str, doc: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, doc, labels, _Count)

    def inc(self, amount: float = 1.0) -> None:
        self.children[()].inc(amount)

    def family(self) -> Metric:
        f = self.kind(self.name, self.doc, labels=self.label_names)
        for values, child in self.children.items():
            f.add_metric(values, child.value)
        return f


class _Gauge(_Counter):
    kind = GaugeMetricFamily

    def dec(self, amount: float = 1.0) -> None:
        self.children[()].dec(amount)

    def set(self, value: float) -> None:
        self.children[()].set(value)


class _Histogram(_Family):
    def __init__(self, name: str, doc: str, labels: Sequence[str] = (), *, buckets: tuple[float, ...]) -> None:
        super().__init__(name, doc, labels, lambda: _Spread(buckets))
        self.bounds = buckets

    def observe(self, value: float) -> None:
        self.children[()].observe(value)

    def family(self) -> Metric:
        f = HistogramMetricFamily(self.name, self.doc, labels=self.label_names)
        for values, child in self.children.items():
            running, cumulative = 0, []
            for bound, n in zip((*self.bounds, float("inf")), child.counts, strict=True):
                running += n
                cumulative.append((_bound_text(bound), running))
            f.add_metric(list(values), cumulative, child.sum)
        return f


def _bound_text(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


class Metrics:
    def __init__(self) -> None:
        self.requests = _Counter(
            "a2a_requests", "JSON-RPC requests, by method, protocol version and result code",
            ["method", "version", "code"],
        )
        self.request_seconds = _Histogram(
            "a2a_request_duration_seconds", "Time to answer a request (a stream: until it closes)",
            ["method"], buckets=_SLOW,
        )
        self.open_streams = _Gauge("a2a_open_streams", "SSE streams open now")
        self.first_frame_seconds = _Histogram(
            "a2a_time_to_first_frame_seconds", "From a streaming request to its first frame on the wire",
            ["method"], buckets=_FAST + (5.0, 10.0),
        )
        self.frames = _Counter("a2a_frames_sent", "Frames sent on streams", ["version"])
        self.turn_seconds = _Histogram(
            "a2a_turn_duration_seconds", "A task's turn, from its start to its end", buckets=_SLOW,
        )
        self.tickets_settled = _Counter(
            "a2a_tickets_settled", "Deferred tool tickets settled, by how", ["state"],
        )
        self.push = _Counter(
            "a2a_push_deliveries", "Webhook POSTs: delivered, retried (to be sent again) or dropped",
            ["result"],
        )
        self.store_seconds = _Histogram(
            "a2a_store_operation_seconds", "Calls of the task store, by operation",
            ["operation"], buckets=_FAST,
        )
        self.tasks = _Gauge("a2a_tasks", "Tasks in the store, by state", ["state"])
        self.tickets_pending = _Gauge("a2a_tickets_pending", "Deferred tool tickets pending")
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)  # type: ignore[arg-type]  # a collector: `collect`

    def collect(self) -> Iterator[Metric]:
        for family in (
            self.requests, self.request_seconds, self.open_streams, self.first_frame_seconds,
            self.frames, self.turn_seconds, self.tickets_settled, self.push, self.store_seconds,
            self.tasks, self.tickets_pending,
        ):
            yield family.family()

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
    `watch` and `doorbell`, are not calls: they pass through; nor is `append_now`, which
    never waits: a turn's text, taken at once)."""
    return _TimedStore(store, metrics)  # type: ignore[return-value]


class _TimedStore:
    def __init__(self, store: TaskStore, metrics: Metrics) -> None:
        self._store = store
        for name in _TIMED:
            setattr(self, name, _timed(getattr(store, name), metrics.store_seconds.labels(name).observe))

    def __getattr__(self, name: str) -> Any:  # everything else: the store's own
        found = getattr(self._store, name)
        if callable(found):  # a method (`append_now`: per chunk): looked up here once
            setattr(self, name, found)
        return found


def _timed(call: Callable[..., Any], observe: Callable[[float], None]) -> Callable[..., Any]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call(*args, **kwargs)
        finally:
            observe(time.perf_counter() - started)

    return timed
