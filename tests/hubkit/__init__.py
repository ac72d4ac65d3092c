"""Pieces of the project's test Hub server; the entry point is ``tests/hubserver.py``.

store: the git-like repo store; body: request-body decoding (chunked, streamed NDJSON);
base: HTTP plumbing, routing and access; download / upload: the endpoints.
Standard library only, so bench scripts can import it too.
"""
