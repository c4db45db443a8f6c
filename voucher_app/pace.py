"""At most once per interval: how often a process sequences the log after its commits.

Sequencing right after each commit keeps the log current while requests are few. Under load
each worker's sequencing finds only the entries committed since the last one, and pays the
transaction's fixed cost (ten statements) for two or three of them: over HTTP at 32 clients it
was a third of the machine's CPU per redemption (bench/README.md ✦). An inclusion proof waits
for a signed checkpoint anyway (every CHECKPOINT_INTERVAL_SECONDS), so a process sequences
after a commit at most once per interval (SEQUENCE_AFTER_COMMIT_EVERY_SECONDS); commits in
between leave their entries to its next sequencing, another process's, or the sequencer job.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pace:
    """Says yes at most once per `every` seconds (0: always), whoever asks in the process."""

    def __init__(self, every: float, clock: Callable[[], float] = time.monotonic) -> None:
        if every < 0:
            raise ValueError(f"an interval is not negative: {every}")
        self.every = every
        self._clock = clock
        self._next = float("-inf")
        self._lock = threading.Lock()

    def due(self) -> bool:
        """Whether the interval begun at the last yes has passed; a yes begins the next."""
        with self._lock:
            now = self._clock()
            if now < self._next:
                return False
            self._next = now + self.every
            return True
