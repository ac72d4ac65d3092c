"""What the server has done, for ``GET /metrics`` (Prometheus text format 0.0.4)
and the one-line summary at shutdown.

Counters and histograms are plain numbers written only on the hub (request
greenlets and the gateway), so they need no locks; the gauges are read at
scrape time from what the engine thread publishes after each round.  The
counting is always on (a few additions per request); ``--metrics`` decides
only whether ``/metrics`` is served.
"""

from __future__ import annotations

import time

# Routes by name; any other path counts as "other" (a scan of random URLs must not grow the label set).
ENDPOINTS = ("/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/embeddings",
             "/openapi.json", "/")
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TPOT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def endpoint(path: str) -> str:
    if path in ENDPOINTS:
        return path
    if path.startswith("/v1/models/"):
        return "/v1/models/{id}"
    if path.startswith("/ui/"):
        return "/ui"
    return "other"


class Histogram:
    __slots__ = ("bounds", "counts", "sum", "count")

    def __init__(self, bounds: tuple[float, ...]):
        self.bounds = bounds
        self.counts = [0] * len(bounds)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str) -> list[str]:
        out = [f'{name}_bucket{{le="{_num(b)}"}} {c}' for b, c in zip(self.bounds, self.counts)]
        out.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
        out.append(f"{name}_sum {_num(self.sum)}")
        out.append(f"{name}_count {self.count}")
        return out


class Metrics:
    def __init__(self):
        self.started = time.time()
        self.requests: dict[tuple[str, int], int] = {}  # (endpoint, status) -> count
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.embedding_inputs = 0
        self.cache_hits = 0  # requests that found part of their prompt in the prompt cache
        self.cached_tokens = 0
        self.ttft = Histogram(TTFT_BUCKETS)
        self.tpot = Histogram(TPOT_BUCKETS)

    # -- recording (hub side) --------------------------------------------------
    def request_done(self, path: str, status: int) -> None:
        key = (endpoint(path), status)
        self.requests[key] = self.requests.get(key, 0) + 1

    def meter(self) -> "Meter":
        return Meter(self)

    def embedded(self, inputs: int, tokens: int) -> None:
        self.embedding_inputs += inputs
        self.prompt_tokens += tokens

    # -- reading -----------------------------------------------------------------
    def render(self, worker, version: str) -> bytes:
        """The exposition text: counters, histograms, and the engine's gauges now."""
        lines: list[str] = []

        def family(name, kind, help_, samples):
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(samples)

        family("mlxk_info", "gauge", "The server's version.", [f'mlxk_info{{version="{_label(version)}"}} 1'])
        family("mlxk_uptime_seconds", "gauge", "Seconds since the server started.",
               [f"mlxk_uptime_seconds {_num(time.time() - self.started)}"])
        family("mlxk_requests_total", "counter", "HTTP requests answered, by endpoint and status.",
               [f'mlxk_requests_total{{endpoint="{_label(e)}",status="{s}"}} {n}'
                for (e, s), n in sorted(self.requests.items())])
        family("mlxk_prompt_tokens_total", "counter", "Prompt and embedding-input tokens processed.",
               [f"mlxk_prompt_tokens_total {self.prompt_tokens}"])
        family("mlxk_completion_tokens_total", "counter", "Tokens generated.",
               [f"mlxk_completion_tokens_total {self.completion_tokens}"])
        family("mlxk_embedding_inputs_total", "counter", "Inputs embedded.",
               [f"mlxk_embedding_inputs_total {self.embedding_inputs}"])
        family("mlxk_prompt_cache_hits_total", "counter", "Requests that reused part of their prompt from the cache.",
               [f"mlxk_prompt_cache_hits_total {self.cache_hits}"])
        family("mlxk_prompt_cache_tokens_total", "counter", "Prompt tokens reused from the prompt cache.",
               [f"mlxk_prompt_cache_tokens_total {self.cached_tokens}"])
        family("mlxk_prompt_cache_bytes", "gauge", "Memory held by the prompt cache.",
               [f"mlxk_prompt_cache_bytes {worker.cache_nbytes}"])
        family("mlxk_queue_depth", "gauge", "Requests waiting for the engine.",
               [f"mlxk_queue_depth {worker.waiting()}"])
        family("mlxk_running_sequences", "gauge", "Requests the engine is working on.",
               [f"mlxk_running_sequences {worker.n_active}"])
        family("mlxk_prefilling_sequences", "gauge", "Requests whose prompt is being processed.",
               [f"mlxk_prefilling_sequences {worker.n_prefilling}"])
        loaded = [m.name for m in worker.loaded]
        family("mlxk_models_loaded", "gauge", "Models in memory.", [f"mlxk_models_loaded {len(loaded)}"])
        family("mlxk_model_loaded", "gauge", "1 for each model in memory.",
               [f'mlxk_model_loaded{{model="{_label(name)}"}} 1' for name in loaded])
        family("mlxk_time_to_first_token_seconds", "histogram",
               "From a generation request's arrival to its first generated text.",
               self.ttft.lines("mlxk_time_to_first_token_seconds"))
        family("mlxk_time_per_output_token_seconds", "histogram",
               "Mean time between generated tokens after the first, per request.",
               self.tpot.lines("mlxk_time_per_output_token_seconds"))
        return ("\n".join(lines) + "\n").encode()

    def summary(self) -> str:
        """One line for the log at shutdown."""
        # Probes are not work: /health is 503 while loading, by design.
        work = {k: n for k, n in self.requests.items() if k[0] not in ("/health", "/metrics")}
        total = sum(work.values())
        failed = sum(n for (_, status), n in work.items() if status >= 500)
        up = time.time() - self.started
        return (f"served {total} request{'s' if total != 1 else ''} ({failed} failed) in {_duration(up)}: "
                f"{self.prompt_tokens} tokens in, {self.completion_tokens} out")


class Meter:
    """One generation request's clock: time to first token, time per token, tokens."""

    __slots__ = ("metrics", "start", "first")

    def __init__(self, metrics: Metrics):
        self.metrics = metrics
        self.start = time.perf_counter()
        self.first = None

    def see(self, event) -> None:
        kind = event.kind
        if kind == "delta":
            if self.first is None:
                self.first = time.perf_counter()
                self.metrics.ttft.observe(self.first - self.start)
        elif kind == "done":
            m = self.metrics
            m.prompt_tokens += event.prompt_tokens
            m.completion_tokens += event.completion_tokens
            if event.cached_tokens:
                m.cache_hits += 1
                m.cached_tokens += event.cached_tokens
            if self.first is not None and event.completion_tokens > 1:
                m.tpot.observe((time.perf_counter() - self.first) / (event.completion_tokens - 1))


def _num(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value)) + ".0"


def _label(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
