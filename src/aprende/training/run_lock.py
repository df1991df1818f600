"""One writer per run folder: an advisory lock held for the whole run.

``RunLock(folder)`` takes ``fcntl.flock`` on ``folder/.lock`` and writes its process id there.
The operating system releases the lock when the process ends, however it ends (SIGKILL
included), so a stale lock file never blocks a resume; a second process that tries while the
first one runs gets ``RunLockedError`` naming the holder's process id. Where ``fcntl`` does not
exist (Windows) the lock is a no-op.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks of this kind
    fcntl = None

LOCK_NAME = ".lock"


class RunLockedError(RuntimeError):
    """Another process is writing the same run folder."""


class RunLock:
    """``with RunLock(folder):`` holds the folder's lock (re-entrant within one process)."""

    _held: dict[str, int] = {}  # resolved folder -> how many holders in this process

    def __init__(self, folder):
        self.folder = Path(folder)
        self._descriptor = None

    def __enter__(self) -> RunLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        key = str(self.folder.resolve())
        if fcntl is None:
            return self
        if self._held.get(key):
            self._held[key] += 1  # fit() inside 'aprende train', both locking the same folder
            return self
        path = self.folder / LOCK_NAME
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode(errors="replace").strip() or "unknown"
            os.close(descriptor)
            raise RunLockedError(
                f"{self.folder} is in use by another process (pid {holder}): wait for it to "
                "finish or stop it, or choose another folder"
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._descriptor = descriptor
        self._held[key] = 1
        return self

    def __exit__(self, *exc) -> None:
        if fcntl is None:
            return
        key = str(self.folder.resolve())
        self._held[key] -= 1
        if self._descriptor is not None and not self._held[key]:
            del self._held[key]
            os.close(self._descriptor)  # closing releases the flock
            self._descriptor = None
