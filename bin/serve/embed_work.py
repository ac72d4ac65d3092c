"""Embeddings requests on the engine thread: tokenize, batch, cut to ``dimensions``.

Each request becomes an ``EmbedWork``: its inputs as token lists, visited
shortest first so a batch holds inputs of similar length (little padding).
``take`` fills one batch from the waiting works in arrival order, so inputs
of several requests share a forward pass, and one step stays bounded
(``MAX_BATCH`` inputs, ``MAX_BATCH_TOKENS`` padded tokens): generation of
other models goes on between two batches.
"""

from __future__ import annotations

from mlxk_common.engine.embed import check_tokens, normalized
from mlxk_common.errors import MlxkError

MAX_BATCH = 32
MAX_BATCH_TOKENS = 16384  # padded tokens in one forward pass


class EmbedWork:
    __slots__ = ("job", "tokens", "order", "next", "vectors", "left")

    def __init__(self, job, tokens: list[list[int]]):
        self.job = job
        self.tokens = tokens
        self.order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))
        self.next = 0  # position in ``order`` of the next input to batch
        self.vectors = [None] * len(tokens)
        self.left = len(tokens)

    @property
    def prompt_tokens(self) -> int:
        return sum(len(t) for t in self.tokens)


def start(engine, job) -> EmbedWork:
    """Tokenize and check a request's inputs (raises MlxkError), and its ``dimensions``."""
    req = job.request
    tokens = req.tokens if req.tokens is not None else engine.tokenize(req.texts)
    check_tokens(engine, tokens)
    if req.dimensions is not None:
        native = dimension(engine)
        if req.dimensions > native:
            raise MlxkError("usage_error", f"'dimensions' is {req.dimensions}; this model's vectors have {native}",
                            param="dimensions")
        if req.dimensions != native and not engine.matryoshka:
            raise MlxkError("usage_error", f"{engine.info.name} gives {native}-dimensional vectors and is not "
                            "trained to be cut shorter ('dimensions')", param="dimensions")
    return EmbedWork(job, tokens)


def dimension(engine) -> int:
    if engine.dim is None:
        engine.embed([[0]])  # one token: the cheapest way to learn the vectors' size
    return engine.dim


def take(works: list[EmbedWork]) -> list[tuple[EmbedWork, int]]:
    """The next batch: (work, input index) pairs, oldest requests first."""
    batch: list[tuple[EmbedWork, int]] = []
    longest = 0
    for work in works:
        while work.next < len(work.order):
            index = work.order[work.next]
            length = len(work.tokens[index])
            if batch and (len(batch) >= MAX_BATCH or max(longest, length) * (len(batch) + 1) > MAX_BATCH_TOKENS):
                return batch
            batch.append((work, index))
            longest = max(longest, length)
            work.next += 1
    return batch


def run(engine, batch: list[tuple[EmbedWork, int]]) -> list[EmbedWork]:
    """One forward pass for ``batch``; returns the works it completed."""
    vectors = engine.embed([work.tokens[index] for work, index in batch])
    done = []
    for row, (work, index) in enumerate(batch):
        work.vectors[index] = vectors[row]
        work.left -= 1
        if work.left == 0:
            done.append(work)
    return done


def result(engine, work: EmbedWork):
    """The request's vectors in its order, cut to ``dimensions`` (and normalised again)."""
    import numpy as np

    vectors = np.stack(work.vectors)
    dims = work.job.request.dimensions
    if dims is not None and dims < vectors.shape[1]:
        vectors = normalized(np.ascontiguousarray(vectors[:, :dims]), engine.normalize)
    return vectors
