"""Prometheus metrics of the recorder, in a registry of their own (served at ``/metrics``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


@dataclass
class Metrics:
    """The recorder's metrics; one instance per app (tests may build several)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.recordings_active = Gauge(
            "cloudrec_recordings_active",
            "Recordings this process is running now",
            registry=self.registry,
        )
        self.requests = Counter(
            "cloudrec_requests",
            "API requests answered, by route and HTTP status",
            ["route", "status"],
            registry=self.registry,
        )
        self.requests_refused = Counter(
            "cloudrec_requests_refused",
            "Requests refused before they were read: unauthenticated, wrong_app, forbidden, "
            "too_large, bad_request, rate_limited",
            ["reason"],
            registry=self.registry,
        )
        self.callbacks_sent = Counter(
            "cloudrec_callbacks_sent",
            "Event notifications delivered (HTTP 200)",
            ["event_type"],
            registry=self.registry,
        )
        self.callbacks_failed = Counter(
            "cloudrec_callbacks_failed",
            "Event notifications given up after every retry",
            ["event_type"],
            registry=self.registry,
        )
        self.callbacks_dropped = Counter(
            "cloudrec_callbacks_dropped",
            "Event notifications dropped because the delivery queue was full",
            registry=self.registry,
        )
        self.callbacks_superseded = Counter(
            "cloudrec_callbacks_superseded",
            "Upload progress notifications replaced in the queue by a newer one of the recording",
            registry=self.registry,
        )
        self.media_lag = Gauge(
            "cloudrec_media_lag_seconds",
            "How far the most lagging recording's media worker is behind the wall clock now "
            "(s; 0: every worker on time): how long the oldest frame it has not written yet "
            "has been due",
            registry=self.registry,
        )
        self.media_lag_episodes = Counter(
            "cloudrec_media_lag_episodes",
            "Times a recording's media worker fell more than a segment behind the wall clock",
            registry=self.registry,
        )
        self.media_lag_worst = Histogram(
            "cloudrec_media_lag_worst_seconds",
            "Each recording's worst media worker lag (s), once its files are written",
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
            registry=self.registry,
        )
        self.callbacks_queued = Gauge(
            "cloudrec_callbacks_queued",
            "Event notifications waiting in the delivery queue",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


@dataclass(frozen=True)
class MediaLagReport:
    """The media workers' lag reports (media/lag.py ``LagReport``) into the metrics."""

    metrics: Metrics

    def fell_behind(self) -> None:
        self.metrics.media_lag_episodes.inc()

    def worker_done(self, worst_lag: float) -> None:
        self.metrics.media_lag_worst.observe(worst_lag)
