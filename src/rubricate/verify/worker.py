"""Body of a verifier worker process: ``python -m rubricate.verify.worker READ_FD WRITE_FD``.

The pool starts workers as fresh interpreters (fork + exec) rather than through multiprocessing:
forking a parent that holds torch or Prefect's threads is unsafe, and multiprocessing's spawn and
forkserver re-run the parent's ``__main__`` in every child (a Prefect engine, a notebook, or stdin,
where it fails). Messages are pickles framed by ``multiprocessing.connection.Connection``:

  parent -> worker: (fn, fn_kwargs) once, then batches [(index, gold, response), ...], then None
  worker -> parent: ("ready", pid) once, then ("done", index, RuleVerdict) per item, in order
"""

from __future__ import annotations

import os
import signal
import sys
from multiprocessing.connection import Connection


def serve(inbox: Connection, outbox: Connection) -> None:
    from rubricate.verify.rules import RuleVerdict

    try:
        fn, fn_kwargs = inbox.recv()
    except (EOFError, OSError):
        return
    try:  # warm up: the first item's time limit should not pay for imports and parser set-up (~1 s)
        from math_verify import parse, verify

        verify(parse("$x+1$"), parse("$1+x$"))  # this is the process's main thread: SIGALRM limits work
    except Exception:  # pragma: no cover - each comparison that needs it reports the import error
        pass
    outbox.send(("ready", os.getpid()))
    while True:
        try:
            batch = inbox.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        for idx, gold, response in batch:
            try:
                verdict = fn(gold, response, **fn_kwargs)
            except Exception as exc:  # fn should never raise; if it does, only this item is an error
                verdict = RuleVerdict(None, "error", f"{type(exc).__name__}: {exc}"[:500], 0.0)
            outbox.send(("done", idx, verdict))


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    read_fd, write_fd = int(argv[1]), int(argv[2])
    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    try:
        serve(inbox, outbox)
    except (BrokenPipeError, EOFError):  # the parent went away
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
