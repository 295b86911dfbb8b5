"""What `wegwijs serve` shows on /metrics (Prometheus text format through prometheus_client): messages in and
out per channel and kind, handling time, retrieval actions, emergencies, cases per state, the outbox, and
webhooks refused per reason. Counted from what the conversation returns: the core knows nothing of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.messages import Incoming, Outgoing

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# the reply that tells which way retrieval went (its catalog key, or the prefix of an answer's key)
ACTIONS = (("entry:", "answer"), ("did-you-mean", "suggest"), ("fallback", "fallback"), ("handoff-offer", "fallback"))


def retrieval_action(replies: list[Outgoing]) -> str | None:
    for reply in replies:
        for prefix, action in ACTIONS:
            if (reply.key or "").startswith(prefix):
                return action
    return None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages_in = Counter("wegwijs_messages_in", "Messages from women, per channel and kind", ["channel", "kind"], registry=self.registry)
        self.messages_out = Counter("wegwijs_messages_out", "Replies to women, per channel", ["channel"], registry=self.registry)
        self.latency = Histogram("wegwijs_handling_seconds", "Time to handle one message (stored, decided, replies queued)", ["channel"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.retrieval = Counter("wegwijs_retrieval_actions", "What retrieval did with a question", ["action"], registry=self.registry)
        self.emergencies = Counter("wegwijs_emergencies", "Emergencies recognised, per kind", ["kind"], registry=self.registry)

    def observe(self, incoming: Incoming, replies: list[Outgoing], seconds: float) -> None:
        """A conversation observer: one message handled."""
        self.messages_in.labels(incoming.channel, incoming.kind.value).inc()
        self.latency.labels(incoming.channel).observe(seconds)
        mine = [reply for reply in replies if reply.recipient == incoming.user]
        if mine:
            self.messages_out.labels(incoming.channel).inc(len(mine))
        action = retrieval_action(replies)
        if action is not None:
            self.retrieval.labels(action).inc()
        for reply in replies:
            if (reply.key or "").startswith("emergency:"):
                self.emergencies.labels(reply.key[len("emergency:"):]).inc()

    def collect_from(self, collect: Callable[[], Iterable[CounterMetricFamily | GaugeMetricFamily]]) -> None:
        """Add figures read at each scrape (cases per state, the outbox, refused webhooks)."""
        self.registry.register(_Collector(collect))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Collector(Collector):
    def __init__(self, collect: Callable[[], Iterable[CounterMetricFamily | GaugeMetricFamily]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        return self._collect()
