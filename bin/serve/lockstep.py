"""Continuous batching on a model split across ranks: every rank takes rank 0's batch steps.

A sharded model computes one step on all ranks together (tensor parallel:
all-reduces inside every layer; pipeline: hand-overs between layer ranges),
so every rank must run the same ``BatchScheduler`` calls in the same order:
the same requests join with the same prompt tokens, the same prompt chunk
per step, the same requests leave.  Rank 0 owns the HTTP server and the
scheduler's decisions; ``LeaderScheduler`` wraps its ``BatchScheduler`` and
sends every call (``submit``, ``cancel``, ``step`` with its prefill chunk,
``stop``) to the other ranks, which replay them in ``follow``.

Control messages travel on a plain TCP connection from rank 0 to each
follower (one JSON line per step), not through ``mx.distributed``: a rank
waiting in a collective spins a core, and an idle server would keep every
follower at 100 % CPU; a follower blocked in ``recv`` costs nothing.  The
tensors (activations, sampled tokens) stay on MLX's backend.  Rank 0 tells
the followers its port with one all-reduce at start-up; a random token from
the launcher's job keeps strangers off the port.

Sampled tokens: rank 0 samples (with the request's seed, penalties,
grammar constraint) and its tokens are broadcast to every rank inside the
step (an ``all_sum`` to which only rank 0 contributes), so the followers
feed exactly rank 0's tokens back into the model.  Same-seed sampling on
every rank would need bit-identical logits on every host (different BLAS
threads or chips can round differently and make one argmax differ, and
then the caches and the collectives drift apart) and every grammar compiled
on every rank; the broadcast costs one tiny all-reduce per sequence and step.
"""

from __future__ import annotations

import json
import socket
import time

from mlxk_common.engine.request import GenerationRequest
from mlxk_common.errors import MlxkError

HELLO_TIMEOUT_S = 60.0


class PeerLost(RuntimeError):
    """A follower's control connection broke (it ended, or its host went away)."""


# -- sampled tokens -------------------------------------------------------------------------------
def leader_sampler(group):
    """Rank 0: sample, then broadcast (the others contribute zeros)."""
    import mlx.core as mx

    def wrap(sampler):
        def sample(logprobs):
            return mx.distributed.all_sum(sampler(logprobs).astype(mx.int32), group=group)

        return sample

    return wrap


def follower_sampler(group):
    """Another rank: take rank 0's tokens.  The zeros depend on the logits, so the
    broadcast runs after the step's own collectives, in the same order as on rank 0."""
    import mlx.core as mx

    def wrap(_sampler):
        def sample(logprobs):
            zeros = mx.minimum(mx.argmax(logprobs, axis=-1), 0).astype(mx.int32)
            return mx.distributed.all_sum(zeros, group=group)

        return sample

    return wrap


# -- the control connections ----------------------------------------------------------------------
class Leader:
    """Rank 0's connections to the followers."""

    def __init__(self, rank, token: str):
        self.rank = rank
        self.token = token
        self.followers: dict[int, socket.socket] = {}
        self.failed: MlxkError | None = None  # set once a follower is gone: the server then answers 503

    def listen(self, address: str):
        server = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind((address, 0))
        except OSError:
            server.bind(("", 0))  # the hostfile's address is not this host's own: listen everywhere
        server.listen(64)
        return server

    def accept(self, server, timeout: float) -> None:
        """Wait for every follower to connect and say who it is."""
        deadline = time.monotonic() + timeout
        want = set(range(1, self.rank.ranks))
        while want - set(self.followers):
            server.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                conn, _ = server.accept()
            except TimeoutError:
                missing = sorted(want - set(self.followers))
                raise MlxkError(
                    "peer_timeout", f"rank(s) {missing} did not connect to rank 0's control port", ranks=missing
                ) from None
            conn.settimeout(10)
            try:
                hello = json.loads(_readline(conn))
            except (OSError, ValueError):
                conn.close()
                continue
            if not isinstance(hello, dict) or hello.get("token") != self.token or hello.get("rank") not in want:
                conn.close()  # not one of ours
                continue
            conn.settimeout(None)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.followers[hello["rank"]] = conn
        server.close()

    def send(self, message: dict) -> None:
        if self.failed is not None:
            raise PeerLost(self.failed.message)
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        for rank, conn in self.followers.items():
            try:
                conn.sendall(data)
            except OSError as exc:
                self.fail(rank, f"its control connection broke ({exc.strerror or exc})")
                raise PeerLost(self.failed.message) from None

    def check(self) -> MlxkError | None:
        """Without blocking: has a follower gone?  (They never write after hello: anything
        readable is the end of the connection.)"""
        if self.failed is None:
            for rank, conn in self.followers.items():
                try:
                    data = conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    self.fail(rank, f"its control connection broke ({exc.strerror or exc})")
                    break
                if not data:
                    self.fail(rank, "it ended or its host went away")
                    break
        return self.failed

    def fail(self, rank: int | None, why: str) -> None:
        if self.failed is None:
            where = f"rank {rank}" if rank is not None else "a rank"
            self.failed = MlxkError(
                "rank_failed",
                f"{where} of the distributed model is gone ({why}); the server stops",
                rank=rank,
                reason="peer_lost",  # the launcher then names the rank that died, and how
            )

    def close(self) -> None:
        for conn in self.followers.values():
            try:
                conn.close()
            except OSError:
                pass


def connect(address: str, port: int, rank: int, token: str, timeout: float) -> socket.socket:
    """A follower's connection to rank 0 (retried until ``timeout``: rank 0 may still be starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = socket.create_connection((address, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise MlxkError(
                    "peer_timeout", f"rank {rank} cannot reach rank 0's control port {address}:{port}", rank=rank
                ) from None
            time.sleep(0.2)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.sendall((json.dumps({"rank": rank, "token": token}) + "\n").encode())
    conn.settimeout(None)
    return conn


def share_port(port: int, group) -> int:
    """Rank 0's control port, to every rank (one all-reduce; the others contribute 0)."""
    import mlx.core as mx

    value = mx.distributed.all_sum(mx.array([port], dtype=mx.int32), stream=mx.cpu, group=group)
    return int(value.item())


def _readline(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            break
        data += chunk
    return data


# -- rank 0's scheduler ---------------------------------------------------------------------------
class LeaderScheduler:
    """A ``BatchScheduler`` whose every call is replayed on the followers.

    Requests are numbered here (the worker's ids are objects); a request
    that ends on rank 0 by a stop string (which only rank 0 checks) is
    dropped on the followers before their next step."""

    def __init__(self, sched, leader: Leader):
        self.sched = sched
        self.leader = leader
        self._keys: dict = {}
        self._next = 0
        self._ops: list = []

    @property
    def pacer(self):
        return self.sched.pacer

    @property
    def prefilling(self) -> int:
        return self.sched.prefilling

    @property
    def active(self) -> int:
        return self.sched.active

    def __len__(self):
        return len(self.sched)

    def submit(self, request, rid=None, *, cache=None, cache_tokens=None, return_cache: bool = False):
        if cache is not None:
            raise ValueError("a distributed server keeps no prompt cache")
        rid = self.sched.submit(request, rid)
        self._keys[rid] = key = self._next
        self._next += 1
        self._ops.append(["submit", key, request.prompt_tokens, request.max_tokens])
        return rid

    def cancel(self, rid):
        key = self._keys.pop(rid, None)
        if key is not None:
            self._ops.append(["cancel", key])
        return self.sched.cancel(rid)

    def step(self) -> list:
        if self.leader.check() is not None:  # a follower is gone: the step would wait for it in vain
            raise PeerLost(self.leader.failed.message)
        chunk = self.sched.next_chunk()
        self._flush(["step", chunk])
        try:
            events = self.sched.step(chunk)
        except RuntimeError as exc:  # the backend: "[ring] connection to a peer was lost"
            self.leader.fail(None, str(exc))
            raise PeerLost(self.leader.failed.message) from None
        for event in events:
            if event.kind == "finished":
                key = self._keys.pop(event.rid, None)
                if key is not None:
                    self._ops.append(["cancel", key])
        return events

    def close(self) -> None:
        try:
            if self.leader.failed is None:
                self._flush(["stop"])
        except PeerLost:
            pass
        self.sched.close()

    def _flush(self, last: list) -> None:
        ops, self._ops = self._ops + [last], []
        self.leader.send({"ops": ops})


# -- the other ranks ------------------------------------------------------------------------------
def follow(conn: socket.socket, sched) -> None:
    """Replay rank 0's scheduler calls until it says stop; rank 0 gone: ``PeerLost``."""
    reader = conn.makefile("rb")
    while True:
        line = reader.readline()
        if not line:
            raise PeerLost("rank 0 is gone (its control connection ended)")
        for op in json.loads(line)["ops"]:
            kind = op[0]
            if kind == "submit":
                _, key, tokens, max_tokens = op
                sched.submit(GenerationRequest(tokens, max_tokens), key)
            elif kind == "cancel":
                sched.cancel(op[1])
            elif kind == "step":
                sched.step(op[1])
            elif kind == "stop":
                sched.close()
                return


# -- what the worker loads --------------------------------------------------------------------------
class ShardedModel:
    """The worker's loader on rank 0 of a distributed server: this rank's share of the
    one model every rank loaded, and a scheduler whose steps every rank takes."""

    def __init__(self, rank, leader: Leader, cpu=None):
        self.rank = rank
        self.describe = rank.describe()  # {ranks, backend, mode, cast}: /health's distributed
        self.leader = leader
        self.cpu = cpu
        self.path = None
        self.load_s = None
        self._loaded = False

    @property
    def failed(self) -> MlxkError | None:
        return self.leader.failed

    def load(self, located):
        if self.leader.failed is not None:
            raise self.leader.failed
        if self._loaded:  # the other ranks no longer hold it: a new load would wait for them forever
            raise MlxkError("rank_failed", "the distributed model was unloaded after an error; restart the server")
        self._loaded = True
        engine = self.rank.load(located, self.cpu)
        self.load_s = engine.load_s
        return engine

    def scheduler(self, engine, max_batch: int):
        sched = engine.batch(max_batch=max_batch)
        sched.sampler_wrap = leader_sampler(self.rank.group)
        return LeaderScheduler(sched, self.leader)
