"""The console-script entry points: every installed executable starts here.

A Ctrl-C while a tool's modules are still being imported (the first tenth of
a second) would otherwise end in a KeyboardInterrupt traceback: nothing of
the tool runs yet to catch it.  So until the tool's ``main`` takes over,
SIGINT ends the process quietly with exit status 130, the code every tool
gives for an interruption.  Where SIGINT was ignored when the process started
(a background job, ``nohup``), it stays ignored.

This module runs before anything else, so it imports almost nothing: the C
module under ``signal`` (``signal`` itself would import enum, functools and
collections first, milliseconds in which Ctrl-C would still end in a
traceback), and the tool by the builtin ``__import__``.
"""

from __future__ import annotations

import _signal as signal
import sys

EXIT_INTERRUPTED = 130  # mlxk_common.errors.EXIT_INTERRUPTED, without importing it first


def _interrupted(signum, frame):
    raise SystemExit(EXIT_INTERRUPTED)


def launch(module: str) -> int:
    """Import ``mlxk_bin.<module>`` and run its ``main``; Ctrl-C during the
    import exits 130 without a word."""
    guarded = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if guarded:
        signal.signal(signal.SIGINT, _interrupted)
    try:
        name = f"mlxk_bin.{module}"
        __import__(name)
        main = sys.modules[name].main
    finally:
        if guarded:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return main()
    except KeyboardInterrupt:  # between here and the tool's own handler
        return EXIT_INTERRUPTED


def _entry(module: str):
    def main() -> int:
        return launch(module)

    main.__name__ = module
    return main


# One per executable ([project.scripts] in pyproject.toml names them).
mlxk = _entry("mlxk")
mlxk_list = _entry("list")
mlxk_show = _entry("show")
mlxk_health = _entry("health")
mlxk_rm = _entry("rm")
mlxk_pull = _entry("pull")
mlx_run = _entry("run")
mlxk_serve = _entry("serve")
mlxk_clone = _entry("clone")
mlxk_convert = _entry("convert")
mlxk_push = _entry("push")
