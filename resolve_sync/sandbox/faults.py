"""Latency and faults, deterministic given a seed: request N of a run always draws the same outcome."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("429", "500", "502", "503", "reset", "stall")


@dataclass
class Latency:
    per_request_ms: float = 0.0
    per_row_ms: float = 0.0
    jitter: float = 0.0  # fraction of the delay, e.g. 0.1 = ±10 %
    seed: int = 0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Latency:
        return cls(
            **{k: config[k] for k in ("per_request_ms", "per_row_ms", "jitter", "seed") if k in config}
        )

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
    def from_config(cls, config: dict[str, Any]) -> FaultPlan:
        rates = {kind: float(config.get(f"rate_{kind}", 0.0)) for kind in FAULT_KINDS}
        unknown = [k for k in config.get("next", []) if str(k) not in FAULT_KINDS]
        if unknown or sum(rates.values()) > 1:
            raise ValueError(
                f"faults: unknown kinds {unknown} or rates above 1 in total; kinds are {FAULT_KINDS}"
            )
        return cls(
            seed=int(config.get("seed", 0)),
            rates=rates,
            stall_seconds=float(config.get("stall_seconds", 30.0)),
            queue=[str(k) for k in config.get("next", [])],
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
