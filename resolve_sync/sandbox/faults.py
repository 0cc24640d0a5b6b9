"""Latency and faults, deterministic given a seed: request N of a run always draws the same outcome."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from resolve_sync.sandbox.checks import PayloadError, integer, number, settings_object

FAULT_KINDS = ("429", "500", "502", "503", "reset", "stall")
MAX_SEED = 2**63 - 1
MAX_REQUEST_MS = 600_000.0  # ten minutes, longer than any client waits
MAX_ROW_MS = 1_000.0
MAX_STALL_SECONDS = 600.0
MAX_QUEUED_FAULTS = 10_000


@dataclass
class Latency:
    per_request_ms: float = 0.0
    per_row_ms: float = 0.0
    jitter: float = 0.0  # fraction of the delay, e.g. 0.1 = ±10 %
    seed: int = 0

    @classmethod
    def from_config(cls, config: Any, where: str = "latency") -> Latency:
        """Checked settings (fixture `latency` or `PUT /_sandbox/latency`); PayloadError names a bad one."""
        config = settings_object(config, where, ("per_request_ms", "per_row_ms", "jitter", "seed"))
        latency = cls()
        if "per_request_ms" in config:
            latency.per_request_ms = number(config, "per_request_ms", where, low=0, high=MAX_REQUEST_MS)
        if "per_row_ms" in config:
            latency.per_row_ms = number(config, "per_row_ms", where, low=0, high=MAX_ROW_MS)
        if "jitter" in config:
            latency.jitter = number(config, "jitter", where, low=0, high=1)
        if "seed" in config:
            latency.seed = integer(config, "seed", where, low=-MAX_SEED, high=MAX_SEED)
        return latency

    def seconds(self, request_number: int, rows: int) -> float:
        base = (self.per_request_ms + self.per_row_ms * rows) / 1000.0
        if base <= 0 or self.jitter <= 0:
            return max(base, 0.0)
        spread = random.Random(f"latency:{self.seed}:{request_number}").uniform(-self.jitter, self.jitter)
        return max(base * (1 + spread), 0.0)


@dataclass
class FaultPlan:
    """Probabilities per fault kind (`rate_429`, `rate_500`, …) plus a queue of faults for the next requests."""

    seed: int = 0
    rates: dict[str, float] = field(default_factory=dict)
    stall_seconds: float = 30.0
    queue: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_config(cls, config: Any, where: str = "faults") -> FaultPlan:
        """Checked settings (fixture `faults` or `PUT /_sandbox/faults`); PayloadError names a bad one."""
        rate_keys = [f"rate_{kind}" for kind in FAULT_KINDS]
        config = settings_object(config, where, ("seed", *rate_keys, "stall_seconds", "next"))
        rates = {
            kind: number(config, f"rate_{kind}", where, low=0, high=1)
            for kind in FAULT_KINDS
            if f"rate_{kind}" in config
        }
        if sum(rates.values()) > 1:
            raise PayloadError(f"{where}: the rate_* values add up to more than 1.")
        queue = config.get("next", [])
        if not isinstance(queue, list) or len(queue) > MAX_QUEUED_FAULTS:
            raise PayloadError(f"{where}.next must be a list of at most {MAX_QUEUED_FAULTS} fault kinds.")
        queue = [str(k) if isinstance(k, int) and not isinstance(k, bool) else k for k in queue]
        unknown = [kind for kind in queue if kind not in FAULT_KINDS]
        if unknown:
            raise PayloadError(
                f"{where}.next: unknown fault kind {unknown[0]!r:.60}; the kinds are {', '.join(FAULT_KINDS)}."
            )
        return cls(
            seed=integer(config, "seed", where, low=-MAX_SEED, high=MAX_SEED) if "seed" in config else 0,
            rates=rates,
            stall_seconds=number(config, "stall_seconds", where, low=0, high=MAX_STALL_SECONDS)
            if "stall_seconds" in config
            else 30.0,
            queue=list(queue),
        )

    def draw(self, request_number: int) -> str | None:
        with self._lock:
            if self.queue:
                return self.queue.pop(0)
        roll = random.Random(f"fault:{self.seed}:{request_number}").random()
        threshold = 0.0
        for kind in FAULT_KINDS:
            threshold += self.rates.get(kind, 0.0)
            if roll < threshold:
                return kind
        return None
