"""A beat every so often while a block of work runs, on a thread of its own: a job renewing its
lease (`jobs`), a background task saying it is alive (`background`). Both need the same care —
an app context for the thread, a failed beat logged and tried again at the next, the thread
stopped and joined when the work ends — so one function gives it to both.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask

log = logging.getLogger(__name__)


@contextmanager
def beating(app: Flask, name: str, every: float, beat: Callable[[], bool]) -> Iterator[None]:
    """Call `beat` every `every` seconds until the block ends, or until `beat` answers False."""
    stop = threading.Event()

    def loop() -> None:
        with app.app_context():
            while not stop.wait(every):
                try:
                    if not beat():
                        return
                except Exception:  # the database away for a moment: try at the next beat
                    log.exception("%s: a beat failed", name)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
