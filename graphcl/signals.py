r"""Stopping a run cleanly on SIGINT (Ctrl-C) and SIGTERM.

While :class:`StopRequests` is active, the first signal only records a
stop request; the engine checks it at the end of every epoch, saves a
checkpoint and raises :class:`RunInterrupted`, which ``graphcl train``
reports in one line (where it stopped and how to resume) with exit code
130 (SIGINT) or 143 (SIGTERM). A second signal stops at once
(:class:`KeyboardInterrupt`; the last periodic checkpoint is kept).
"""
import signal
import threading
from typing import Optional

__all__ = ['StopRequests', 'RunInterrupted']


class RunInterrupted(Exception):
    r"""Training stopped on a signal.

    Attributes:
        signum (int): The signal.
        where (str): Where it stopped, e.g. ``'seed 1, epoch 40'``.
        saved (bool): Whether a checkpoint of that point was written.
        exit_code (int): ``128 + signum`` (130 for SIGINT, 143 for
            SIGTERM).
    """
    interrupted = True

    def __init__(self, signum: int, where: str, saved: bool):
        self.signum, self.where, self.saved = signum, where, saved
        self.exit_code = 128 + signum
        name = signal.Signals(signum).name
        super().__init__(f"stopped by {name} at {where}"
                         f"{' (checkpoint saved)' if saved else ''}")


class StopRequests:
    r"""Context manager turning SIGINT/SIGTERM into a stop request
    (:attr:`signum`) checked by the training loop. Outside the main thread
    it installs nothing (signals are delivered to the main thread only)."""
    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signum: Optional[int] = None
        self._previous = {}

    def _handle(self, signum, frame):
        if self.signum is not None:  # the second one: stop now
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self) -> 'StopRequests':
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}
        return False
