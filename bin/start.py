"""The console-script entry points: every installed executable starts here.

A Ctrl-C while a tool's modules are still being imported (the first tenth of
a second, more for the dispatcher's own) would otherwise end in a
KeyboardInterrupt traceback, or be swallowed: raised inside one of the import
machinery's callbacks, it is printed as "Exception ignored" and the tool runs
on.  So until the tool's ``main`` can report an interruption
(``cli.Tool.main`` takes SIGINT back), SIGINT ends the process at once with
exit status 130, the code every tool gives for an interruption: nothing has
been written or changed yet that would need cleaning up.  Where SIGINT was
ignored when the process started (a background job, ``nohup``), it stays
ignored.

This module runs before anything else, so it imports almost nothing: the C
module under ``signal`` (``signal`` itself would import enum, functools and
collections first, milliseconds in which Ctrl-C would still end in a
traceback), and the tool by the builtin ``__import__``.
"""

# No ``from __future__`` import here: it would load a module (and compile it, on a fresh
# install) before the guard below is set, and a Ctrl-C then lands in it as a traceback.
import _signal as signal
import os
import sys

EXIT_INTERRUPTED = 130  # mlxk_common.errors.EXIT_INTERRUPTED, without importing it first


def _exit_interrupted(signum, frame):
    os._exit(EXIT_INTERRUPTED)


_exit_interrupted.mlxk_start_up = True  # how cli.Tool.main recognizes the guard it replaces


def _started_by_an_executable() -> bool:
    """Whether the program is one of our console scripts (not, say, a test that imports this)."""
    name = os.path.basename(getattr(sys.modules.get("__main__"), "__file__", None) or "")
    return name.removesuffix(".exe") in ("mlxk", "mlx-run") or name.startswith("mlxk-")


# The guard from this module's first lines on (os and sys were loaded by the interpreter
# already; _signal is built in); launch() below sets it for any other caller.
if _started_by_an_executable() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _exit_interrupted)


def launch(module: str) -> int:
    """Import ``mlxk_bin.<module>`` and run its ``main``; Ctrl-C before that
    ``main`` takes over exits 130 without a word."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _exit_interrupted)
    name = f"mlxk_bin.{module}"
    __import__(name)
    try:
        return sys.modules[name].main()
    except KeyboardInterrupt:  # after the tool's own handler ended
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
