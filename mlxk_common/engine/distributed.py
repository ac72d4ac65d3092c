"""One model across several processes or machines: the plan, checked before anything starts.

mlxk does not distribute anything itself: ranks are started by MLX's own
launcher (``mlx.launch``, see ``launcher``), talk over MLX's own backends
(ring over TCP by default) and the model is split by mlx-lm's own
``Model.shard`` (tensor parallel) or ``Model.model.pipeline`` (layer ranges,
see ``sharded``).  This module decides, from the config and the safetensors
headers alone (no mlx import), whether a split can work:

- tensor parallel needs the architecture's ``shard`` and head counts (and
  the sharded matrix sizes, and the quantization group) divisible by the
  rank count: SmolLM2-135M (9 heads, 3 KV heads) crashes at 2 ranks;
- pipeline needs the architecture's pipeline support (qwen2-style models,
  not llama in mlx-lm 0.32) and at least one layer per rank, and one float
  dtype: mixed float32/float16 weights (what GGUF conversion writes) give
  NaN logits silently, so such a model is cast to its main dtype.

The hostfile is the JSON file ``mlx.launch`` reads::

    {"backend": "ring",
     "hosts": [{"ssh": "mac1.local", "ips": ["192.168.1.10"]},
               {"ssh": "mac2.local", "ips": ["192.168.1.11"]}]}

``--ranks N`` is the same file with N hosts ``127.0.0.1`` (``mlx.launch``
runs those locally, without ssh).
"""

from __future__ import annotations

import hashlib
import json
import os

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.runtime import mlx_lm_module_name
from mlxk_common.inventory.safetensors_header import element_count, read_header
from mlxk_common.inventory.splits import TENSOR_RANKS_CHECKED, tensor_problem, text_config, valid_tensor_ranks
from mlxk_common.options import FILE, arg_type, completes

TENSOR, PIPELINE = "tensor", "pipeline"
MODES = (TENSOR, PIPELINE)
BACKENDS = ("ring", "mpi", "nccl", "jaccl", "jaccl-ring")
DEFAULT_BACKEND = "ring"
DEFAULT_PEER_TIMEOUT = 60.0  # seconds for every rank to start and meet the others
MAX_RANKS = 64
LOCAL = "127.0.0.1"  # the host mlx.launch starts without ssh

_FLOAT_DTYPES = {"F16": "float16", "BF16": "bfloat16", "F32": "float32", "F64": "float64"}


def rank_count(text: str) -> int:
    value = int(text)
    if not 2 <= value <= 64:
        raise ValueError("must be between 2 and 64")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if not 0 < value < 1e6:
        raise ValueError("must be a positive number of seconds")
    return value


def add_distributed_arguments(parser) -> None:
    """One model across several processes or hosts (mlx-run, mlxk-serve): MLX's own distributed engine."""
    group = parser.add_argument_group("one model across several ranks (MLX distributed)")
    where = group.add_mutually_exclusive_group()
    completes(
        where.add_argument(
            "--hosts",
            metavar="HOSTFILE",
            help="run one rank per host of this mlx.launch JSON hostfile "
            '({"backend": "ring", "hosts": [{"ssh": NAME, "ips": [IP]}, ...]}); '
            "rank 0 is the first host",
        ),
        FILE,
    )
    where.add_argument(
        "--ranks",
        type=arg_type(rank_count, "count"),
        metavar="N",
        help="run N ranks on this machine (ring backend over 127.0.0.1): a test of a split, "
        "or one model over several processes",
    )
    group.add_argument(
        "--shard",
        choices=("tensor", "pipeline"),
        default=None,
        help="how to split the model: tensor (every layer split, the default where head "
        "counts divide by the ranks) or pipeline (layer ranges, architectures that support it)",
    )
    group.add_argument(
        "--peer-timeout",
        type=arg_type(seconds, "seconds"),
        default=None,
        metavar="S",
        help="seconds for every rank to start and meet the others (env MLXK2_PEER_TIMEOUT; "
        "default 60); then the run ends with peer_timeout",
    )


class Hostfile:
    """The hosts of a run, as ``mlx.launch --hostfile`` reads them."""

    def __init__(self, hosts: list[dict], backend: str = DEFAULT_BACKEND, envs=(), source: str | None = None):
        self.hosts = hosts
        self.backend = backend
        self.envs = list(envs)
        self.source = source

    @property
    def ranks(self) -> int:
        return len(self.hosts)

    @property
    def names(self) -> list[str]:
        return [h["ssh"] for h in self.hosts]

    @property
    def local(self) -> bool:
        return all(h["ssh"] == LOCAL for h in self.hosts)

    def to_json(self) -> dict:
        return {"backend": self.backend, "envs": self.envs, "hosts": self.hosts}

    @classmethod
    def local_ranks(cls, ranks: int, backend: str | None = None) -> Hostfile:
        if not 2 <= ranks <= MAX_RANKS:
            raise MlxkError("usage_error", f"--ranks must be between 2 and {MAX_RANKS}, not {ranks}")
        return cls([{"ssh": LOCAL, "ips": [LOCAL]} for _ in range(ranks)], backend or DEFAULT_BACKEND)

    @classmethod
    def read(cls, path: str, backend: str | None = None) -> Hostfile:
        """Parse and check a hostfile; every problem is a ``usage_error`` naming the file."""

        def bad(why: str):
            return MlxkError(
                "usage_error",
                f"hostfile {path}: {why}",
                path=path,
                hint='{"backend": "ring", "hosts": [{"ssh": "host1", "ips": ["10.0.0.1"]}, ...]}',
            )

        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise bad("no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise bad(f"cannot read it ({exc})") from None
        except ValueError as exc:
            raise bad(f"not JSON ({exc})") from None
        hosts, envs, named = data, [], None
        if isinstance(data, dict):
            hosts, envs, named = data.get("hosts"), data.get("envs", []), data.get("backend")
        if not isinstance(hosts, list) or not hosts:
            raise bad('no hosts: give a list of {"ssh": NAME, "ips": [IP, ...]} objects')
        if len(hosts) > MAX_RANKS:
            raise bad(f"{len(hosts)} hosts; at most {MAX_RANKS}")
        if not isinstance(envs, list) or not all(isinstance(e, str) and "=" in e for e in envs):
            raise bad("envs must be a list of NAME=VALUE strings")
        chosen = backend or named or DEFAULT_BACKEND
        if chosen not in BACKENDS:
            raise bad(f"unknown backend {chosen!r} (one of {', '.join(BACKENDS)})")
        checked = []
        for i, host in enumerate(hosts):
            if not isinstance(host, dict) or not isinstance(host.get("ssh"), str) or not host["ssh"].strip():
                raise bad(f'host {i} needs an "ssh" name')
            ips = host.get("ips", [])
            if not isinstance(ips, list) or not all(isinstance(ip, str) and ip for ip in ips):
                raise bad(f'host {i} ({host["ssh"]}): "ips" must be a list of addresses')
            if chosen == "ring" and not ips:
                raise bad(f'host {i} ({host["ssh"]}): the ring backend needs its IP address in "ips"')
            checked.append({**host, "ips": ips})
        if len(checked) < 2:
            raise bad("one host: a distributed run needs at least two")
        return cls(checked, chosen, envs, source=path)


class Plan:
    """How the model is split: mode, rank count, and the dtype every weight is cast to (or None)."""

    def __init__(self, mode: str, ranks: int, cast: str | None, layers: int | None):
        self.mode = mode
        self.ranks = ranks
        self.cast = cast
        self.layers = layers

    def to_dict(self) -> dict:
        return {"mode": self.mode, "ranks": self.ranks, "cast": self.cast}


def split_support(config: dict) -> dict:
    """Which splits the installed mlx-lm offers for this architecture:
    ``{"tensor": bool, "pipeline": bool}`` (imports the model's mlx-lm module)."""
    import importlib

    try:
        module = importlib.import_module(f"mlx_lm.models.{mlx_lm_module_name(config)}")
        from mlx_lm.models.pipeline import PipelineMixin
    except ImportError:
        return {TENSOR: False, PIPELINE: False}
    model_class = getattr(module, "Model", None)
    classes = [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__]
    return {
        TENSOR: model_class is not None and callable(getattr(model_class, "shard", None)),
        PIPELINE: any(issubclass(c, PipelineMixin) for c in classes),
    }


def float_dtypes(files: list[str]) -> dict[str, int]:
    """Elements per float dtype over the model's safetensors files (headers only)."""
    counts: dict[str, int] = {}
    for path in files:
        try:
            header = read_header(path, validate=False)
        except (OSError, ValueError):
            continue  # the loader reports a broken file; this is only a dtype census
        for info in header["tensors"].values():
            if not isinstance(info, dict):
                continue
            dtype = _FLOAT_DTYPES.get(info.get("dtype"))
            if dtype:
                counts[dtype] = counts.get(dtype, 0) + element_count(info.get("shape") or [])
    return counts


def weight_files(path: str) -> list[str]:
    return sorted(os.path.join(path, n) for n in os.listdir(path) if n.endswith(".safetensors"))


def plan(name: str, path: str, config: dict, ranks: int, mode: str | None = None) -> Plan:
    """Check that ``ranks`` ranks can split the model in ``mode`` (None: tensor where
    it can, else pipeline); raise ``capability_not_supported`` saying why not."""
    support = split_support(config)
    c = text_config(config)
    layers = c.get("num_hidden_layers")
    arch = config.get("model_type", "?")
    tensor_why = None
    if not support[TENSOR]:
        tensor_why = f"mlx-lm's {arch} model has no tensor parallel support"
    else:
        problem = tensor_problem(config, ranks)
        if problem:
            valid = valid_tensor_ranks(config)
            tensor_why = f"{problem}; tensor parallel works with " + (
                f"{_or_list(valid)} ranks" if valid else f"no rank count up to {TENSOR_RANKS_CHECKED}"
            )
    pipeline_why = None
    if not support[PIPELINE]:
        pipeline_why = f"mlx-lm's {arch} model has no pipeline support"
    elif isinstance(layers, int) and layers < ranks:
        pipeline_why = f"it has {layers} layers, fewer than {ranks} ranks"
    if mode is None:
        mode = TENSOR if tensor_why is None else PIPELINE if pipeline_why is None else None
    why = {TENSOR: tensor_why, PIPELINE: pipeline_why}.get(mode) if mode else f"{tensor_why}; {pipeline_why}"
    if why:
        raise MlxkError(
            "capability_not_supported",
            f"{name} cannot be split{f' in {mode} mode' if mode else ''} across {ranks} ranks: {why}",
            mode=mode,
            ranks=ranks,
            valid_tensor_ranks=valid_tensor_ranks(config) if support[TENSOR] else [],
            pipeline=support[PIPELINE],
        )
    cast = None
    if mode == PIPELINE:
        counts = float_dtypes(weight_files(path))
        if len(counts) > 1:  # mixed: cast all to the dtype most weights are in
            cast = max(counts, key=counts.get)
    return Plan(mode, ranks, cast, layers if isinstance(layers, int) else None)


def _or_list(values: list[int]) -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def fingerprint(path: str) -> str:
    """A hash of what every rank will read: the small files whole, each weight
    file's size and header (its tensors' names, shapes, dtypes and offsets).
    Two copies of one revision agree; a different revision or a half-copied
    folder does not."""
    digest = hashlib.sha256()
    for entry in sorted(os.listdir(path)):
        full = os.path.join(path, entry)
        if not os.path.isfile(full) or entry.startswith("."):
            continue
        digest.update(entry.encode() + b"\0")
        size = os.path.getsize(full)
        digest.update(str(size).encode() + b"\0")
        with open(full, "rb") as f:
            if entry.endswith(".safetensors"):
                head = f.read(8)
                length = int.from_bytes(head, "little") if len(head) == 8 else 0
                digest.update(f.read(min(length, 100_000_000)))
            elif size <= 50_000_000:  # config, tokenizer, templates
                digest.update(f.read())
    return digest.hexdigest()[:16]
