"""An exclusive lock between processes on one machine: `fcntl.flock` on a file (released by the kernel when the
holder dies, so a killed process never leaves a lock behind)."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rubricate.errors import RubricateError


@contextmanager
def file_lock(path: str | Path, *, timeout_s: float = 600.0, what: str = "") -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block; wait at most timeout_s for it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        t0 = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - t0 >= timeout_s:
                    raise RubricateError(
                        f"waited {timeout_s:g} s for the lock {path}{f' ({what})' if what else ''}; another process holds it. "
                        "If no rubricate process is running, something else holds the file: find it with `fuser` and stop it"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
