"""Files the ledger publishes outside its database, each replaced whole.

A reader (a web server serving an export folder, the service reading its published
checkpoint) must never see half a file: every file is written to a temporary name in the same
folder and renamed over the old one, which POSIX makes atomic.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to `path`: a crash leaves the old file or the new one, never a mix.

    With `durable`, the file and the rename are flushed to disk before returning, so the new
    file survives a power cut (the checkpoints need this; an export of many tiles flushes them
    all at once before writing the checkpoint that names them).
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if durable and hasattr(os, "O_DIRECTORY"):  # POSIX: make the rename durable
        folder_descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder_descriptor)
        finally:
            os.close(folder_descriptor)
