"""mlxk: the git-style dispatcher.

``mlxk SUB ARGS`` runs the built-in ``mlxk-SUB`` in-process (same streams,
exit code and signals as the dashed executable), or executes an ``mlxk-SUB``
found on PATH in place of this process (plugins, as with git).
"""

from __future__ import annotations

import os
import sys

from mlxk_bin.mlxk import completion
from mlxk_bin.mlxk.commands import ALIASES, BUILTINS, canonical
from mlxk_common import JSON_API_SPEC_VERSION, __version__
from mlxk_common.errors import MlxkError
from mlxk_common.iox import IOEnv, quiet_broken_pipe
from mlxk_common.output import HUMAN, JSON, NDJSON, Output

SUMMARY = "MLX model tools: keep, check, fetch, run and serve models from the Hugging Face cache"
PLUGIN_PREFIX = "mlxk-"
# Meta commands the dispatcher answers itself, with their one-line summaries.
META_COMMANDS = {
    "help": "show the manual of a command (man page, else --help)",
    "completion": "print a bash, zsh or fish completion script",
}


def find_plugins(environ) -> dict[str, str]:
    """``mlxk-NAME`` executables on PATH that are not built-ins: name -> path
    (the first on PATH wins, as the shell would run it)."""
    builtin_exes = {exe for exe, _, _ in BUILTINS.values()}
    found: dict[str, str] = {}
    for folder in environ.get("PATH", "").split(os.pathsep):
        try:
            entries = os.scandir(folder or ".")
        except OSError:
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if not name.startswith(PLUGIN_PREFIX) or name in builtin_exes:
                    continue
                sub = name[len(PLUGIN_PREFIX):]
                if not sub or sub in found or canonical(sub) or sub in META_COMMANDS:
                    continue
                try:
                    if entry.is_file() and os.access(entry.path, os.X_OK):
                        found[sub] = entry.path
                except OSError:
                    continue
    return found


def command_listing(environ) -> str:
    aliases = {}
    for alias, target in ALIASES.items():
        aliases.setdefault(target, []).append(alias)
    lines = ["usage: mlxk <command> [args...]", "", SUMMARY + ".", "", "commands:"]
    for sub, (exe, _, summary) in BUILTINS.items():
        extra = f" (alias: {', '.join(aliases[sub])})" if sub in aliases else ""
        lines.append(f"  {sub:<11} {summary}{extra}")
    for sub, summary in META_COMMANDS.items():
        lines.append(f"  {sub:<11} {summary}")
    plugins = find_plugins(environ)
    if plugins:
        lines += ["", "commands found on PATH:"]
        for sub, path in sorted(plugins.items()):
            lines.append(f"  {sub:<11} {path}")
    lines += [
        "",
        "Each command is also its own executable (mlxk list = mlxk-list, mlxk run = mlx-run).",
        "'mlxk help COMMAND' shows a command's manual; 'mlxk COMMAND --help' lists its options.",
        "Global options: --help, --version [--json].",
    ]
    return "\n".join(lines) + "\n"


def version_info(with_system: bool) -> dict:
    info = {"cli_version": __version__, "json_api_spec_version": JSON_API_SPEC_VERSION}
    if with_system:
        info["system"] = system_info()
    return info


def system_info() -> dict:
    """Platform and MLX facts.  Only ``--version --json`` pays for importing mlx."""
    import platform

    info = {
        "platform": sys.platform,
        "machine": platform.machine(),
        "python_version": platform.python_version(),
        "mlx_version": None,
        "mlx_lm_version": None,
        "device": None,
    }
    from importlib import metadata

    for dist, key in (("mlx", "mlx_version"), ("mlx-lm", "mlx_lm_version")):
        try:
            info[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    try:
        import mlx.core as mx

        device = mx.default_device()
        info["device"] = str(device.type).rsplit(".", 1)[-1]
    except Exception:  # noqa: BLE001 - a broken MLX install must not break --version
        info["device"] = None
    return info


def run_builtin(sub: str, args: list[str], env: IOEnv) -> int:
    import importlib

    module = importlib.import_module(f"mlxk_bin.{BUILTINS[sub][1]}")
    return module.main(args, env)


def run_external(path: str, args: list[str], env: IOEnv) -> int:
    """Run a plugin.  As a real process, exec it: it inherits stdin, stdout,
    stderr and signals exactly as if it had been started directly."""
    if env.is_process:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execv(path, [path, *args])
        except OSError as exc:
            raise MlxkError("permission_denied", f"cannot run {path}: {exc.strerror}") from None
    import subprocess

    stdin_data = None if env.stdin_isatty else env.stdin.read()
    proc = subprocess.run([path, *args], input=stdin_data, capture_output=True, text=True, env=dict(env.environ))
    env.stdout.write(proc.stdout)
    env.stderr.write(proc.stderr)
    return proc.returncode


def man_folders() -> list[str]:
    """Where mlxk's man pages are: this checkout's man/ when running from a
    source tree (so an editable install never shows stale copies), then the
    share/man/man1 folders a wheel installs into (prefix and user installs)."""
    import sysconfig

    # realpath: a strict editable install links each file from a link tree into this checkout.
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    folders = [os.path.join(here, "man")]
    data_roots = [sysconfig.get_path("data"), sys.prefix]
    try:
        data_roots.append(sysconfig.get_path("data", sysconfig.get_preferred_scheme("user")))
    except (KeyError, AttributeError):
        pass
    for root in data_roots:
        folder = os.path.join(root, "share", "man", "man1")
        if folder not in folders:
            folders.append(folder)
    return folders


def find_manual(page: str, environ=None) -> list[str] | None:
    """The ``man`` command line that shows PAGE (an executable's name, e.g.
    ``mlxk-list``), or None when there is no man program or no page."""
    import shutil

    environ = os.environ if environ is None else environ
    man = shutil.which("man", path=environ.get("PATH", os.defpath))
    if not man:
        return None
    for folder in man_folders():
        path = os.path.join(folder, page + ".1")
        if os.path.isfile(path):
            # A path with a slash is a file to man-db, mandoc and BSD man alike
            # (``-l`` is man-db's alone).
            return [man, path]
    import subprocess

    # Installed elsewhere on MANPATH (e.g. by a system package)?
    found = subprocess.run([man, "-w", page], capture_output=True, text=True, env=dict(environ))
    return [man, page] if found.returncode == 0 and found.stdout.strip() else None


def show_help(sub: str, env: IOEnv) -> int:
    if sub in META_COMMANDS or sub == "mlxk":
        page, name = "mlxk", None
    else:
        name = canonical(sub)
        if name is None:
            plugins = find_plugins(env.environ)
            if sub in plugins:
                return run_external(plugins[sub], ["--help"], env)
            return unknown_command(sub, env)
        page = BUILTINS[name][0]
    manual = find_manual(page, env.environ)
    if manual and env.is_process and env.stdout_isatty:
        sys.stdout.flush()
        os.execvpe(manual[0], manual, dict(env.environ))
    if manual:
        import subprocess

        proc = subprocess.run(manual, capture_output=True, text=True,
                              env={**env.environ, "MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "80"})
        if proc.returncode == 0 and proc.stdout:
            env.stdout.write(proc.stdout)
            return 0
    if name is None:
        env.stdout.write(command_listing(env.environ))
        return 0
    return run_builtin(name, ["--help"], env)


def print_completion(args: list[str], env: IOEnv) -> int:
    if len(args) != 1 or args[0] not in completion.SHELLS:
        raise MlxkError("usage_error", "completion takes one shell: bash, zsh or fish",
                        usage="usage: mlxk completion {bash,zsh,fish}")
    env.stdout.write(completion.script(args[0]))
    return 0


def unknown_command(sub: str, env: IOEnv) -> int:
    import difflib

    names = list(BUILTINS) + list(ALIASES) + list(META_COMMANDS) + list(find_plugins(env.environ))
    close = difflib.get_close_matches(sub, names, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise MlxkError("usage_error", f"unknown command '{sub}'.{hint} See 'mlxk --help'.", command=sub)


def main(argv: list[str] | None = None, env: IOEnv | None = None) -> int:
    env = IOEnv.from_process() if env is None else env
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(argv, env)
    except BrokenPipeError:
        return quiet_broken_pipe(env)
    except MlxkError as exc:
        return report(exc, argv, env)
    except KeyboardInterrupt:
        return 130


def report(error: MlxkError, argv: list[str], env: IOEnv) -> int:
    """The dispatcher's own errors (an unknown command or option, a write
    that failed) in the output mode the command line asked for: with --json
    or --ndjson among the arguments a script gets its envelope or error event."""
    out = Output("mlxk", "mlxk", HUMAN, env)
    if error.type == "output_error":  # stdout is gone: stderr only
        discard = getattr(env.stdout, "discard", None)
        if discard is not None:
            discard()
        quiet_broken_pipe(env)
    elif "--json" in argv:
        out.mode = JSON
    elif "--ndjson" in argv:
        out.mode = NDJSON
    if out.mode == HUMAN and error.details.get("usage"):
        env.stderr.write(error.details["usage"] + "\n")
    try:
        out.fail(error)
    except MlxkError:  # stdout failed on the way: say it on stderr
        out.mode = HUMAN
        out.fail(error)
    except BrokenPipeError:
        quiet_broken_pipe(env)
    return error.exit_code


def _dispatch(argv: list[str], env: IOEnv) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        env.stdout.write(command_listing(env.environ))
        env.stdout.flush()
        return 0
    first, rest = argv[0], argv[1:]
    if first in ("--version", "-V"):
        return print_version(rest, env)
    if first == "help":
        if not rest:
            env.stdout.write(command_listing(env.environ))
            return 0
        return show_help(rest[0], env)
    if first == "completion":
        return print_completion(rest, env)
    if first.startswith("-"):
        raise MlxkError("usage_error", f"unknown option '{first}'. See 'mlxk --help'.", option=first)
    name = canonical(first)
    if name is not None:
        return run_builtin(name, rest, env)
    plugins = find_plugins(env.environ)
    if first in plugins:
        return run_external(plugins[first], rest, env)
    return unknown_command(first, env)


def print_version(rest: list[str], env: IOEnv) -> int:
    unknown = [a for a in rest if a != "--json"]
    if unknown:
        raise MlxkError("usage_error", f"unexpected argument '{unknown[0]}' after --version")
    if "--json" in rest:
        Output("mlxk", "version", "json", env).envelope(version_info(with_system=True))
        return 0
    env.stdout.write(f"mlxk {__version__} (JSON API {JSON_API_SPEC_VERSION})\n")
    env.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
