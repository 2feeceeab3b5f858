"""Circuit breakers shared by tools and language-model providers: built with a metrics listener, and
asked whether they are open. One breaker per dependency; its state is exported as a gauge."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiobreaker import CircuitBreaker, CircuitBreakerListener

from app.observability import metrics

log = logging.getLogger("app.tools")

_STATE_VALUE = {"closed": 0, "half-open": 1, "half_open": 1, "open": 2}


class BreakerMetrics(CircuitBreakerListener):
    """Mirrors a breaker's state into the shared gauge and logs every transition."""

    def __init__(self, label: str) -> None:
        self.label = label
        metrics.CIRCUIT_BREAKER_STATE.labels(breaker=label).set(0)

    def state_change(self, breaker: Any, old: Any, new: Any) -> None:
        name = str(getattr(new, "state", new)).split(".")[-1].lower()
        value = _STATE_VALUE.get(name, 0)
        metrics.CIRCUIT_BREAKER_STATE.labels(breaker=self.label).set(value)
        log.warning("breaker.state.changed", extra={"breaker": self.label, "state": name})


def new_breaker(label: str, fail_max: int, reset_seconds: float) -> CircuitBreaker:
    return CircuitBreaker(fail_max=fail_max, timeout_duration=timedelta(seconds=reset_seconds),
                          listeners=[BreakerMetrics(label)], name=label)


def breaker_is_open(breaker: CircuitBreaker) -> bool:
    """Open and still cooling down (half-open lets one trial call through)."""
    state = str(breaker.current_state).split(".")[-1].lower()
    return state == "open" and (breaker.time_until_open is None or breaker.time_until_open.total_seconds() > 0)
