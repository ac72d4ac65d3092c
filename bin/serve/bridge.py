"""The one crossing between the gevent hub and the engine's OS thread.

Greenlets must never block on a lock the engine thread holds, and the
engine thread must never touch gevent objects.  So:

* hub -> engine: a C-level ``_queue.SimpleQueue`` (gevent does not patch
  it): ``put`` never blocks, and the engine thread's blocking ``get`` waits
  on a real OS lock;
* engine -> hub: the engine appends to a ``Ticket``'s deque (thread-safe),
  marks the ticket ready and sends the hub's async watcher, which is the
  thread-safe way to wake a gevent loop; on the hub, the watcher's callback
  sets each ready ticket's gevent ``Event``.
"""

from __future__ import annotations

import _queue
from collections import deque


class Ticket:
    """The greenlet side of one request: events arrive in ``events``;
    ``wait()`` sleeps the greenlet until there are some.  Tickets made with
    one ``wake`` event (the n choices of one request) wake the same greenlet."""

    __slots__ = ("events", "_wake", "__weakref__")

    def __init__(self, wake=None):
        import gevent.event

        self.events: deque = deque()
        self._wake = wake if wake is not None else gevent.event.Event()

    def wait(self, timeout: float | None = None) -> bool:
        """True when events are waiting (at once, or within ``timeout``)."""
        if self.events:
            return True
        self._wake.clear()
        if self.events:  # arrived between the check and the clear
            return True
        self._wake.wait(timeout)
        return bool(self.events)

    def _set(self):
        self._wake.set()


class Bridge:
    """Create and start on the hub's thread; ``post``/``notify`` from the engine."""

    def __init__(self):
        import gevent

        self.inbox = _queue.SimpleQueue()  # hub -> engine commands
        self._ready = _queue.SimpleQueue()  # engine -> hub: tickets with news
        self._callbacks = _queue.SimpleQueue()  # engine -> hub: functions to run on the hub
        self._watcher = gevent.get_hub().loop.async_()
        self._watcher.start(self._on_wake)

    # -- engine thread ---------------------------------------------------------
    def post(self, ticket: Ticket, event) -> None:
        ticket.events.append(event)
        self._ready.put(ticket)

    def call_soon(self, fn) -> None:
        """Run ``fn()`` on the hub (after the next ``notify``)."""
        self._callbacks.put(fn)

    def notify(self) -> None:
        self._watcher.send()

    # -- hub -------------------------------------------------------------------
    def _on_wake(self):
        ready = self._ready
        while True:
            try:
                ready.get_nowait()._set()
            except _queue.Empty:
                break
        while True:
            try:
                fn = self._callbacks.get_nowait()
            except _queue.Empty:
                break
            fn()

    def close(self):
        self._watcher.stop()
        self._watcher.close()


def start_os_thread(target):
    """Start a real OS thread even though ``threading`` is monkey-patched
    (patched ``threading.Thread`` would make a greenlet).  Returns a real
    lock that is held until ``target`` has returned.

    The thread never ends: once ``target`` returns it parks until the process
    exits.  An ending thread runs MLX's thread-local destructors, which take
    the GIL; if the interpreter is shutting down at that moment, the thread is
    unwound and the process aborts ("terminate called without an active
    exception").  A parked thread is simply gone with the process."""
    from gevent import monkey

    start = monkey.get_original("_thread", "start_new_thread")
    allocate = monkey.get_original("_thread", "allocate_lock")
    done = allocate()
    done.acquire()

    def run():
        try:
            target()
        finally:
            done.release()
            park = allocate()
            park.acquire()
            park.acquire()

    start(run, ())
    return done
