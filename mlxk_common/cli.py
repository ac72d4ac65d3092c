"""The tool framework: one declaration per executable feeds argparse, ``--help``,
the man page and the shell completions, and one ``main()`` gives every tool the
same error handling, exit codes, output modes, logging and signal behaviour.

A tool module looks like::

    TOOL = Tool(name="mlxk-list", command="list", summary="...",
                configure=add_my_arguments, run=run)
    def main(argv=None, env=None):
        return TOOL.main(argv, env)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence

from mlxk_common import __version__
from mlxk_common.config import debug, setting
from mlxk_common.errors import EXIT_OK, EXIT_USAGE, MlxkError
from mlxk_common.iox import IOEnv, quiet_broken_pipe
from mlxk_common.logs import resolve_level, setup_logging
from mlxk_common.output import HUMAN, JSON, NDJSON, Output

STANDARD_EXIT_STATUS = (
    (0, "success"),
    (1, "the operation failed or found a problem (not found, ambiguous, unhealthy, per-item errors)"),
    (2, "usage error"),
    (130, "interrupted (SIGINT or SIGTERM)"),
)


class Interrupted(KeyboardInterrupt):
    """SIGTERM, delivered the same way as Ctrl-C."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that writes to the tool's IOEnv and raises usage errors instead
    of exiting, so in-process runs behave like subprocesses."""

    def __init__(self, *args, io_env: IOEnv | None = None, **kwargs):
        self.io_env = io_env
        super().__init__(*args, **kwargs)

    def _print_message(self, message, file=None):
        if not message:
            return
        env = self.io_env
        if env is not None:
            file = env.stderr if file is sys.stderr else env.stdout
        (file or sys.stdout).write(message)

    def error(self, message):
        raise MlxkError("usage_error", message, usage=self.format_usage().strip())

    def exit(self, status=0, message=None):
        if message:
            self._print_message(message, sys.stderr)
        raise SystemExit(status)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, sized from $COLUMNS or the terminal without
    importing shutil (argparse would import it, and with it bz2 and lzma, for
    every --help and --version)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    try:
        return max(int(os.environ["COLUMNS"]), 20)
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80


class Context:
    """What a tool's ``run`` gets: parsed args, the IOEnv and the Output."""

    def __init__(self, tool: "Tool", args: argparse.Namespace, env: IOEnv, out: Output):
        self.tool = tool
        self.args = args
        self.env = env
        self.out = out
        self._log = None
        self.argv: list[str] = []  # the command line as given (a distributed run sends it to every rank)
        self.rank = None  # in a rank process of a distributed run: its engine.sharded.Rank

    @property
    def mode(self) -> str:
        return self.out.mode

    @property
    def log(self):
        """The tool's logger, configured on first use (logging is not free to import)."""
        if self._log is None:
            level = resolve_level(getattr(self.args, "log_level", None), self.env.environ)
            json_lines = getattr(self.args, "log_json", False) or self.env.get("MLXK2_LOG_JSON", "0") == "1"
            self._log = setup_logging(level, json_lines, self.env.stderr, self.env.environ).getChild(self.tool.command)
        return self._log

    def setting(self, flag_value, env_name, default=None, cast=str):
        return setting(flag_value, env_name, self.env.environ, default, cast)


class Tool:
    def __init__(
        self,
        name: str,
        command: str,
        summary: str,
        run: Callable[[Context], int | None],
        configure: Callable[[argparse.ArgumentParser], None] | None = None,
        description: str = "",
        modes: Sequence[str] = (JSON, NDJSON),
        examples: Iterable[tuple[str, str]] = (),
        env_vars: Iterable[str] = (),
        exit_status: Iterable[tuple[int, str]] = STANDARD_EXIT_STATUS,
        see_also: Iterable[str] = (),
        handle_sigterm: bool = True,
        exit_at_once_when_interrupted: bool = False,
    ):
        self.name = name
        self.command = command
        self.summary = summary
        self.run = run
        self.configure = configure
        self.description = description.strip()
        self.modes = tuple(modes)
        self.examples = tuple(examples)
        self.env_vars = tuple(env_vars)
        self.exit_status = tuple(exit_status)
        self.see_also = tuple(see_also)
        self.handle_sigterm = handle_sigterm
        # A tool whose start-up may leave threads behind (mlxk-serve: gevent's patching, the
        # engine's thread) ends an interrupted run with os._exit once its error is written: an
        # interrupt that lands mid-way through that start-up can leave a thread the interpreter's
        # shutdown then waits on for ever.  Only for tools with nothing on disk to finish.
        self.exit_at_once_when_interrupted = exit_at_once_when_interrupted

    # -- the parser: the one source for --help, man pages and completions --
    def parser(self, env: IOEnv | None = None) -> ArgumentParser:
        epilog = ""
        if self.examples:
            epilog = "examples:\n" + "\n".join(f"  {cmd}\n      {text}" for cmd, text in self.examples)
        parser = ArgumentParser(
            prog=self.name,
            description=self.summary + ("\n\n" + self.description if self.description else ""),
            epilog=epilog or None,
            formatter_class=HelpFormatter,
            io_env=env,
        )
        if self.configure:
            self.configure(parser)
        common = parser.add_argument_group("output and logging")
        if JSON in self.modes or NDJSON in self.modes:
            modes = common.add_mutually_exclusive_group()
            if JSON in self.modes:
                modes.add_argument("--json", dest="output_mode", action="store_const", const=JSON,
                                   help="print one JSON envelope on stdout")
            if NDJSON in self.modes:
                modes.add_argument("--ndjson", dest="output_mode", action="store_const", const=NDJSON,
                                   help="print newline-delimited JSON, one object per line, flushed per line")
        common.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=None,
                            help="log level on stderr (env MLXK2_LOG_LEVEL; default warning)")
        common.add_argument("--log-json", action="store_true", default=None,
                            help="log lines on stderr as JSON objects (env MLXK2_LOG_JSON=1)")
        common.add_argument("--version", action="version", version=f"{self.name} {__version__}",
                            help="print the version and exit")
        parser.set_defaults(output_mode=HUMAN)
        return parser

    # -- running ----------------------------------------------------------
    def _guess_mode(self, argv: Sequence[str]) -> str:
        # Used only when argument parsing itself fails, to report the usage
        # error in the format the caller asked for.
        if "--" in argv:
            argv = argv[: list(argv).index("--")]
        if "--json" in argv and JSON in self.modes:
            return JSON
        if "--ndjson" in argv and NDJSON in self.modes:
            return NDJSON
        return HUMAN

    def main(self, argv: Sequence[str] | None = None, env: IOEnv | None = None) -> int:
        env = IOEnv.from_process() if env is None else env
        argv = list(sys.argv[1:] if argv is None else argv)
        out = Output(self.name, self.command, self._guess_mode(argv), env)
        previous_sigterm = None
        if self.handle_sigterm and env.is_process:
            previous_sigterm = _install_sigterm()
        try:
            if env.is_process:
                _take_sigint()
            try:
                parser = self.parser(env)
                # Intermixed: options may come before, between or after the
                # positionals (`mlx-run MODEL --max-tokens 8 "PROMPT"`).
                args = parser.parse_intermixed_args(argv)
            except SystemExit as exc:  # --help / --version
                env.stdout.flush()
                return int(exc.code or 0)
            except MlxkError as exc:
                if exc.type == "output_error":  # --help into a full disk
                    return _report(out, exc, env)
                if out.mode == HUMAN and exc.details.get("usage"):
                    env.stderr.write(exc.details["usage"] + "\n")
                out.fail(exc)
                return EXIT_USAGE
            out.mode = args.output_mode
            ctx = Context(self, args, env, out)
            ctx.argv = argv
            code = self.run(ctx)
            env.stdout.flush()
            return EXIT_OK if code is None else int(code)
        except BrokenPipeError:
            return quiet_broken_pipe(env)
        except MlxkError as exc:
            return _report(out, exc, env)
        except KeyboardInterrupt:
            code = _report(out, MlxkError("interrupted", "interrupted"), env)
            if self.exit_at_once_when_interrupted and env.is_process:
                _exit_now(env, code)
            return code
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if _during_interrupt(exc):  # e.g. argparse's clean-up failing under a Ctrl-C
                return _report(out, MlxkError("interrupted", "interrupted"), env)
            if debug(env.environ):
                import traceback

                traceback.print_exc(file=env.stderr)
            error = MlxkError("internal_error", f"{type(exc).__name__}: {exc}",
                              hint="rerun with MLXK2_DEBUG=1 to see the traceback")
            return _report(out, error, env)
        finally:
            if previous_sigterm is not None:
                signal.signal(signal.SIGTERM, previous_sigterm)


def _report(out: Output, error: MlxkError, env: IOEnv) -> int:
    if error.type == "output_error":  # nowhere to put an envelope: stderr, in every mode
        _give_up_stdout(out, env)
    try:
        out.fail(error)
        env.stdout.flush()
    except BrokenPipeError:
        quiet_broken_pipe(env)
    except MlxkError as again:  # stdout failed while reporting: both errors on stderr
        _give_up_stdout(out, env)
        out.fail(again)
        out.fail(error)
    return error.exit_code


def _exit_now(env: IOEnv, code: int) -> None:
    """End the process with ``code`` now, past the interpreter's shutdown (which
    joins threads and runs atexit hooks): what was written is flushed first."""
    for stream in (env.stdout, env.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _give_up_stdout(out: Output, env: IOEnv) -> None:
    """stdout cannot be written: drop what is still buffered for it, report
    on stderr from now on, and point the descriptor at /dev/null so the
    interpreter's last flush cannot fail again."""
    discard = getattr(env.stdout, "discard", None)
    if discard is not None:
        discard()
    quiet_broken_pipe(env)
    out.mode = HUMAN


def _during_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while a KeyboardInterrupt was being handled
    (a library's ``finally`` that fails when interrupted midway)."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc, seen = exc.__context__, seen + 1
    return False


def _take_sigint() -> None:
    """From here on a Ctrl-C is this main's to report (KeyboardInterrupt):
    the executable's start-up guard, which exits 130 at once while modules
    import, gives way."""
    try:
        if getattr(signal.getsignal(signal.SIGINT), "mlxk_start_up", False):
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not in the main thread
        pass


def _raise_interrupted(signum, frame):
    raise Interrupted()


def _install_sigterm():
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupted)
    except ValueError:  # not in the main thread
        return None
