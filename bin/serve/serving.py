"""Running the server: bind, preload, serve, and stop cleanly on a signal.

The process must already be monkey-patched by gevent (bin/serve.py does it
first thing).  Shutdown on SIGINT/SIGTERM: stop accepting connections, cut
every running generation (streams get an error event and ``[DONE]``, so
each one ends as a well-formed response), let the handlers finish their
last writes, unload the models on the engine thread, return.
"""

from __future__ import annotations

import signal

from mlxk_bin.serve.handler import make_handler_class
from mlxk_bin.serve.worker import Job
from mlxk_common.errors import MlxkError

ENGINE_STOP_S = 4.0  # time the engine thread gets to finish its step, cut requests and unload
HANDLERS_STOP_S = 1.0  # time open connections get to finish their last writes


class _ErrorLog:
    """gevent writes unexpected greenlet errors here: route them to our log."""

    def __init__(self, log):
        self.log = log

    def write(self, text):
        text = text.rstrip()
        if text:
            self.log.error("%s", text)

    def flush(self):
        pass


class Server:
    def __init__(self, state, host: str, port: int, read_timeout: float | None = None):
        import logging

        import gevent
        import gevent.event
        from gevent.pywsgi import LoggingLogAdapter, WSGIServer

        from mlxk_bin.serve.app import make_app

        self.state = state
        self.log = state.log
        gevent.get_hub().exception_stream = _ErrorLog(self.log.getChild("hub"))
        self.http = WSGIServer((host, port), make_app(state), handler_class=make_handler_class(read_timeout),
                               log=None,
                               error_log=LoggingLogAdapter(self.log.getChild("http"), logging.DEBUG))
        self.stop_requested = gevent.event.Event()
        self._stopped = True

    def start(self) -> tuple[str, int]:
        """Bind and accept connections (requests queue until the engine is up)."""
        import gevent

        for signum in (signal.SIGINT, signal.SIGTERM):
            gevent.signal_handler(signum, self._on_signal, signum)
        self.state.worker.start()
        self.http.start()
        return self.http.server_host, self.http.server_port

    def _on_signal(self, signum):
        self.log.info("received %s: shutting down", signal.Signals(signum).name)
        self.stop_requested.set()

    def preload(self, model) -> None:
        """Load ``model`` on the engine thread; raises its MlxkError."""
        job = Job("preload", model, kind="load")
        self.state.worker.submit(job)
        while not job.ticket.wait(0.2):
            if self.stop_requested.is_set():
                raise KeyboardInterrupt
        event = job.ticket.events.popleft()
        self.state.worker.close(job)
        if event.kind == "error":
            error = event.error
            raise error if isinstance(error, MlxkError) else MlxkError("internal_error", str(error))

    def shutdown(self) -> bool:
        """Stop serving (once).  True when the engine thread ended in time."""
        if self.state.stopping:
            return self._stopped
        self.state.stopping = True
        self.http.close()  # no new connections
        if self.state.speech is not None:
            self.state.speech.stop()  # a transcription stops at its next 30-second window
        stopped = self.state.worker.shutdown(ENGINE_STOP_S)
        if not stopped:
            self.log.warning("the engine thread did not stop within %.1f s", ENGINE_STOP_S)
        self.http.stop(timeout=HANDLERS_STOP_S)
        if stopped:
            self.state.worker.bridge.close()
        self._stopped = stopped
        return stopped
