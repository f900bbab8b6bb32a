"""Which processes are alive, and no helper process outlives the process that started it, even when that one is killed with SIGKILL.

A process killed with SIGKILL runs no cleanup (no atexit, no finally), so a server it started in a subprocess
(Prefect's temporary API server, for one) keeps running, orphaned, holding a port and its database. The fix is
a tiny watchdog process per helper: it polls its own parent and, once the parent is gone, stops the helper
(SIGTERM, then SIGKILL after a grace period). When the parent ends normally it has usually stopped the
helper itself; the watchdog then finds it gone and just exits.

Run as `python -m rubricate.processes PARENT_PID CHILD_PID CHILD_IDENTITY` (what `stop_with_parent` starts).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def process_identity(pid: int) -> str | None:
    """A string that names process `pid` for its whole life (boot id + start time), or None when there is none.

    A PID alone is reused after the process dies; its start time since boot, with the boot id, is not.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # no /proc (not Linux): fall back to "a process with this PID exists"
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return f"pid:{pid}"
    # Field 22 is the start time; field 2 (the command name) may hold spaces and parentheses, so split after it.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie is dead; it only waits for its parent to collect it
        return None
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = "?"
    return f"{boot}:{fields[19]}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server this process is about to start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process_group(
    proc: "subprocess.Popen[bytes]", signals: Sequence[tuple[signal.Signals, float]] = ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)),
) -> None:
    """Stop the process group `proc` leads (it was started with start_new_session=True): each signal in turn, waiting
    up to its seconds for the leader to exit before the next."""
    for sig, wait_s in signals:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


_WATCHED: dict[int, subprocess.Popen[bytes]] = {}


def stop_with_parent(child_pid: int, parent_pid: int | None = None) -> bool:
    """Start a watchdog that stops `child_pid` when `parent_pid` (default: this process) dies. Once per child."""
    parent = parent_pid or os.getpid()
    identity = process_identity(child_pid)
    if identity is None or child_pid in _WATCHED:
        return False
    _WATCHED[child_pid] = subprocess.Popen(
        [sys.executable, "-m", "rubricate.processes", str(parent), str(child_pid), identity],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C to the parent's terminal group must not kill the watchdog before it acts
    )
    return True


def _watch(parent_pid: int, child_pid: int, identity: str, poll_s: float = 0.5, grace_s: float = 5.0) -> None:
    parent_identity = process_identity(parent_pid)
    while process_identity(parent_pid) == parent_identity and parent_identity is not None:
        if process_identity(child_pid) != identity:
            return  # the helper ended first: nothing to do
        time.sleep(poll_s)
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 0.0)):
        if process_identity(child_pid) != identity:  # gone, or its PID now belongs to someone else
            return
        try:
            os.kill(child_pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and process_identity(child_pid) == identity:
            time.sleep(0.1)


if __name__ == "__main__":
    _watch(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
