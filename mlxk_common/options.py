"""Options and argument types that several tools share, defined once.

* value types for argparse: ``parse_size`` (what ``MB`` means, decided once),
  ``port``, ``count`` (a positive integer), ``worker_count``, ``retry_count``;
* what an argument's value is, for the shell completions: ``completes`` and
  ``model_arg`` (the dispatcher's doc generator reads the marks);
* option sets: ``add_token_argument``, ``add_transfer_arguments``;
* ``ask_yes_no``: the one confirmation prompt on a terminal.

Sizes: ``KB``/``MB``/``GB``/``TB`` (and bare ``K``/``M``/``G``/``T``) are
decimal, as disks and the Hub count (1 MB = 1,000,000 bytes); ``KiB``/``MiB``/
``GiB``/``TiB`` are binary.  A size is a finite, non-negative number of bytes.

This module imports only re at its top, so every tool can import it at start-up.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # argparse is imported where it is used (start-up time)
if TYPE_CHECKING:
    import argparse

# -- completer kinds -------------------------------------------------------------

MODEL, FILE, DIR, PATH, NONE = "model", "file", "dir", "path", "none"
COMPLETERS = (MODEL, FILE, DIR, PATH, NONE)


def completes(action: argparse.Action, kind: str) -> argparse.Action:
    """Mark what an argument's value is, for the shell completions."""
    if kind not in COMPLETERS:
        raise ValueError(f"unknown completer {kind!r}; use one of {', '.join(COMPLETERS)}")
    action.completer = kind
    return action


def model_arg(parser, *names: str, **kwargs) -> argparse.Action:
    """``parser.add_argument`` for an argument that takes model references."""
    kwargs.setdefault("metavar", "MODEL")
    return completes(parser.add_argument(*names, **kwargs), MODEL)


# -- value types -----------------------------------------------------------------

SIZE_UNITS = {
    "": 1, "B": 1,
    "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9, "GB": 10**9, "T": 10**12, "TB": 10**12,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
}
_SIZE_RE = r"^\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)\s*$"
SIZE_EXAMPLES = "e.g. 50MB, 512KiB, 2GiB, 0"


def parse_size(text: str) -> int:
    """``"50MB"`` -> 50_000_000, ``"2GiB"`` -> 2_147_483_648, ``"0"`` -> 0.

    Raises ``ValueError`` (argparse turns it into a usage error) for anything
    else: negative numbers, ``inf``, ``nan``, unknown units, values beyond 2^63.
    """
    match = re.match(_SIZE_RE, str(text))
    unit = match.group(2).upper() if match else None
    if not match or unit not in SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size ({SIZE_EXAMPLES})")
    value = float(match.group(1)) * SIZE_UNITS[unit]
    if value != value or value >= 2**63:  # NaN, infinity, or beyond a 64-bit count
        raise ValueError(f"{text!r} is out of range for a size")
    return int(value)


def count(text: str) -> int:
    """A positive integer (``--max-tokens``, ``--max-queue``, ...)."""
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def worker_count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise ValueError("must be between 1 and 64")
    return value


def retry_count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def arg_type(cast, name: str):
    """``cast`` as an argparse ``type=`` whose ValueError becomes a usage error
    that names the value, and whose ``name`` the error message uses."""

    def parse(text):
        try:
            return cast(text)
        except (ValueError, OverflowError) as exc:
            import argparse

            message = str(exc)
            raise argparse.ArgumentTypeError(message if repr(text) in message else f"{text!r}: {message}") from None

    parse.__name__ = name
    return parse


SIZE = arg_type(parse_size, "size")
COUNT = arg_type(count, "count")
PORT = arg_type(port, "port")


# -- option sets -------------------------------------------------------------------

CPU_DTYPES = ("auto", "float32", "native")


def add_cpu_arguments(parser) -> None:
    """mlx-run's and mlxk-serve's choice of the CPU path (docs/cpu.md)."""
    group = parser.add_argument_group("CPU (Linux without a GPU)")
    group.add_argument("--cpu-dtype", choices=CPU_DTYPES, metavar="{auto,float32,native}",
                       help="weights on a CPU: float32 runs through OpenBLAS and is fastest; auto (default) "
                            "dequantizes to float32 when it fits the memory budget (env MLXK2_CPU_MEMORY; "
                            "default half the available memory), float32 always, native keeps the model as "
                            "stored (env MLXK2_CPU_DTYPE); except with native, a 4/8-bit model's generated "
                            "tokens (and on AVX-512 CPUs its prompts, keeping no float32 copy) read the packed "
                            "weights through mlxk's own kernels on x86-64 (MLXK2_CPU_KERNELS=0: off)")


def add_token_argument(parser, what: str = "Hub access token") -> None:
    parser.add_argument("--token", metavar="TOKEN", default=None,
                        help=f"{what} (default: HF_TOKEN, HUGGINGFACE_HUB_TOKEN, then the saved login); "
                             "never printed")


def add_transfer_arguments(parser) -> None:
    """The download flags of mlxk-pull, mlxk-clone and mlx-run --pull."""
    parser.add_argument("--workers", type=arg_type(worker_count, "count"), default=8, metavar="N",
                        help="files downloaded in parallel, 1 to 64 (default 8)")
    parser.add_argument("--force-resume", action="store_true",
                        help="resume a partial download without asking")
    add_token_argument(parser)
    parser.add_argument("--retries", type=arg_type(retry_count, "count"), default=None, metavar="N",
                        help="retries of a failed request, with exponential backoff from 0.5 s (default 5)")


# -- confirmation ----------------------------------------------------------------------

def ask_yes_no(env, question: str, default: bool = False) -> bool:
    """Ask on stderr, read one line from stdin.  ``default`` is the answer to
    a bare Enter (and to end of input)."""
    env.stderr.write(f"{question} {'[Y/n]' if default else '[y/N]'} ")
    env.stderr.flush()
    answer = env.stdin.readline().strip().lower()
    return default if not answer else answer in ("y", "yes")
