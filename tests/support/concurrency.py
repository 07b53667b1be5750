"""Races a test can lose: a fake that holds its caller inside the contended section.

A fake that returns at once leaves no window for a second thread to come in, so a test of
"fetched once by concurrent threads" passes with the lock removed. ``ContendedSection`` keeps the
first thread inside (up to ``hold_seconds``) until a second thread enters too: without the lock
the second one does enter, at once, and the test sees two calls; with the lock it waits outside,
the hold times out and the first thread goes on alone.
"""

import threading


class ContendedSection:
    """Call ``enter()`` from inside the fake; ``entries`` counts the threads that got in."""

    def __init__(self, *, hold_seconds: float = 1.0) -> None:
        self.hold_seconds = hold_seconds
        self.entries = 0
        self._count_lock = threading.Lock()
        self._second_in = threading.Event()

    def enter(self) -> int:
        """Count this entry and return its number (1 for the first); the first one waits until
        another thread enters or the hold times out."""
        with self._count_lock:
            self.entries += 1
            number = self.entries
        if number == 1:
            self._second_in.wait(self.hold_seconds)
        else:
            self._second_in.set()
        return number
