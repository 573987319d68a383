"""The daemon's timers, on the monotonic clock.

A wall clock steps: an NTP correction, a VM resumed, a daylight-saving change in
the process's zone. A scheduler that computes "next run = now + interval" on it
(as the ``schedule`` library does, with ``datetime.now()``) stops for an hour
when the clock goes back an hour, and fires everything at once when it jumps
forward. ``time.monotonic`` never steps, so these timers keep their pace
whatever the wall clock does; wall-clock time is only for what relais shows.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Timer:
    low: float
    high: float
    job: Callable[[], object]
    due: float = 0.0


@dataclass
class Timers:
    """Jobs that run every ``low``..``high`` seconds (a fresh draw each time), counted from the
    end of their last run, so that a long run never makes the next one start at once."""

    clock: Callable[[], float] = time.monotonic
    draw: Callable[[float, float], float] = random.uniform
    _timers: list[_Timer] = field(default_factory=list)

    def every(self, low: float, high: float, job: Callable[[], object]) -> None:
        timer = _Timer(low, max(low, high), job)
        timer.due = self.clock() + self.draw(timer.low, timer.high)
        self._timers.append(timer)

    @property
    def idle_seconds(self) -> float | None:
        """Seconds until the next job is due (negative when one is late), None without jobs."""
        if not self._timers:
            return None
        return min(t.due for t in self._timers) - self.clock()

    def run_pending(self) -> None:
        """Run each job that is due, once; its next run counts from the end of this one."""
        for timer in self._timers:
            if timer.due <= self.clock():
                try:
                    timer.job()
                finally:
                    timer.due = self.clock() + self.draw(timer.low, timer.high)
