"""A plain model of a tool's command line, read from its argparse parser.

The man pages (``manpage.py``) and the shell completions (``completion.py``)
are both written from this model, so ``--help``, ``man`` and TAB always agree
with the parser the tool really uses.

Tools say what an argument's value is through a ``completer`` attribute on the
argparse action, set with the helpers of ``mlxk_common.options``::

    from mlxk_common.options import model_arg, completes
    model_arg(parser, "model", nargs="+", help="model name, path, or - for stdin")
    completes(parser.add_argument("--image", metavar="FILE", action="append"), FILE)

Completer kinds: ``model`` (cache names, ``NAME@HASH`` revisions, workspace
folders and paths), ``file``, ``dir``, ``path`` (files and folders), ``none``.
Arguments with ``choices`` complete their choices.  Unmarked arguments are
guessed from their metavar (``MODEL``, ``REF``, ``PATTERN``, ``ORG/NAME`` -> model,
``FILE`` -> file, ``DIR`` -> dir; see ``_GUESS``), or from a dest that is one of
those words; anything else completes nothing.

Only the dispatcher (``mlxk help``, ``mlxk completion``) and the doc generator use it.
"""

from __future__ import annotations

TYPE_CHECKING = False  # argparse is imported where it is used (start-up time)
if TYPE_CHECKING:
    import argparse
import re

from mlxk_bin.mlxk.commands import BUILTINS
from mlxk_common.options import DIR, FILE, MODEL, NONE, PATH

# metavar word -> completer, for arguments whose tool did not say.
_GUESS = {
    "MODEL": MODEL, "MODELS": MODEL, "REF": MODEL, "REFS": MODEL, "PATTERN": MODEL,
    "FILE": FILE, "FILES": FILE, "IMAGE": FILE, "AUDIO": FILE, "GGUF": FILE,
    "PATH": PATH, "SRC": PATH, "SOURCE": PATH,
    "DIR": DIR, "FOLDER": DIR, "DEST": DIR, "TARGET": DIR, "WORKSPACE": DIR,
}


class Arg:
    """One argument: a positional (no flags) or an option."""

    def __init__(self, action: argparse.Action, prog: str, group: str, exclusive: int | None):
        import argparse

        self.flags = tuple(action.option_strings)
        self.dest = action.dest
        self.nargs = action.nargs
        self.choices = tuple(str(c) for c in action.choices) if action.choices is not None else None
        self.default = action.default
        self.required = bool(action.required)
        self.group = group
        self.exclusive = exclusive  # index of its mutually exclusive group, or None
        self.takes_value = action.nargs != 0 and not isinstance(
            action, (argparse._HelpAction, argparse._VersionAction, argparse._CountAction))
        self.repeatable = isinstance(action, (argparse._AppendAction, argparse._AppendConstAction,
                                              argparse._CountAction))
        self.metavars = _metavars(action)
        self.help = _expand_help(action, prog)
        self.completer = _completer(action, self.metavars)

    @property
    def positional(self) -> bool:
        return not self.flags

    @property
    def long_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags if f.startswith("--"))

    @property
    def short_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags if not f.startswith("--"))

    @property
    def name(self) -> str:
        """The display name: the first long flag, else the first flag, else the metavar."""
        if self.flags:
            return (self.long_flags or self.flags)[0]
        return self.metavars[0]

    def value_parts(self) -> list[tuple[str, bool]]:
        """The value syntax as (text, optional) pieces, as argparse prints them:
        ``N`` -> [(M, False)], ``?`` -> [(M, True)], ``*`` -> [(M..., True)],
        ``+`` -> [(M..., False)], an integer -> that many metavars."""
        if not self.takes_value:
            return []
        nargs, mv = self.nargs, self.metavars
        if nargs is None:
            return [(mv[0], False)]
        if nargs == "?":
            return [(mv[0], True)]
        if nargs == "*":
            return [(mv[0] + "...", True)]
        if nargs == "+":
            return [(mv[0] + "...", False)]
        if isinstance(nargs, int):
            return [(mv[i % len(mv)], False) for i in range(nargs)]
        return [(mv[0] + "...", True)]  # argparse.REMAINDER and friends

    def notes(self) -> list[str]:
        """Facts the help text may not state: choices, default, repeatable, required."""
        import argparse

        help_lower = self.help.lower()
        out = []
        if self.choices and not self.metavars[0].startswith("{") and not all(c in self.help for c in self.choices):
            out.append("one of: " + ", ".join(self.choices))
        if (self.takes_value and self.default not in (None, argparse.SUPPRESS, [], "")
                and "default" not in help_lower and not self.positional):
            out.append(f"default: {self.default}")
        if self.repeatable and "repeat" not in help_lower:
            out.append("may be given more than once")
        if self.required and not self.positional and "required" not in help_lower:
            out.append("required")
        return out


class Group:
    def __init__(self, title: str, description: str, args: list[Arg]):
        self.title = title
        self.description = description
        self.args = args


class ToolSpec:
    """Everything the man page and the completions need to know about one tool."""
    def __init__(self, tool, parser: argparse.ArgumentParser | None = None):
        import argparse

        parser = tool.parser() if parser is None else parser
        self.name = tool.name
        self.command = tool.command
        self.summary = tool.summary
        self.description = tool.description
        self.examples = tuple(tool.examples)
        self.env_vars = tuple(tool.env_vars)
        self.exit_status = tuple(tool.exit_status)
        self.see_also = tuple(tool.see_also)
        self.groups: list[Group] = []
        self.subcommands: dict[str, str] = {}
        exclusive = {}
        for index, mutex in enumerate(parser._mutually_exclusive_groups):
            for action in mutex._group_actions:
                exclusive[id(action)] = index
        self.exclusive_required = {i: m.required for i, m in enumerate(parser._mutually_exclusive_groups)}
        for group in parser._action_groups:
            args = []
            for action in group._group_actions:
                if action.help == argparse.SUPPRESS:
                    continue
                if isinstance(action, argparse._SubParsersAction):
                    self.subcommands.update(_subcommands(action))
                args.append(Arg(action, parser.prog, group.title or "", exclusive.get(id(action))))
            if args:
                self.groups.append(Group(_group_title(group.title), group.description or "", args))

    @property
    def args(self) -> list[Arg]:
        return [arg for group in self.groups for arg in group.args]

    @property
    def positionals(self) -> list[Arg]:
        return [arg for arg in self.args if arg.positional]

    @property
    def options(self) -> list[Arg]:
        return [arg for arg in self.args if not arg.positional]

    @property
    def flags(self) -> list[str]:
        return [flag for arg in self.options for flag in arg.flags]

    def synopsis(self) -> list[list[Arg]]:
        """Synopsis items in order: each item is one argument, or several
        arguments of one mutually exclusive group (``[--a | --b]``)."""
        items: list[list[Arg]] = []
        seen_mutex: dict[int, list[Arg]] = {}
        for arg in self.options + self.positionals:
            if arg.exclusive is not None:
                if arg.exclusive in seen_mutex:
                    seen_mutex[arg.exclusive].append(arg)
                    continue
                seen_mutex[arg.exclusive] = [arg]
                items.append(seen_mutex[arg.exclusive])
            else:
                items.append([arg])
        return items

    def item_required(self, item: list[Arg]) -> bool:
        first = item[0]
        if first.exclusive is not None:
            return self.exclusive_required.get(first.exclusive, False)
        if first.positional:
            return first.nargs not in ("?", "*")
        return first.required


def load_tools() -> list:
    """The built-in tools' ``Tool`` objects, in the dispatcher's order."""
    import importlib

    return [importlib.import_module(f"mlxk_bin.{module}").TOOL for _, module, _ in BUILTINS.values()]


def load_specs() -> list[ToolSpec]:
    return [ToolSpec(tool) for tool in load_tools()]


# -- helpers -------------------------------------------------------------------

def _group_title(title: str | None) -> str:
    # argparse's built-in groups: "positional arguments", "options"
    # (Python >= 3.10) or "optional arguments" (older).
    if title in (None, "options", "optional arguments"):
        return "options"
    return title


def _metavars(action: argparse.Action) -> tuple[str, ...]:
    if action.metavar is not None:
        mv = action.metavar
        return tuple(mv) if isinstance(mv, tuple) else (mv,)
    if action.choices is not None:
        return ("{" + ",".join(str(c) for c in action.choices) + "}",)
    if action.option_strings:
        return (action.dest.upper(),)
    return (action.dest,)


def _expand_help(action: argparse.Action, prog: str) -> str:
    """argparse's own ``%(default)s`` expansion, without its formatter."""
    import argparse

    text = action.help or ""
    if "%" not in text:
        return " ".join(text.split())
    params = dict(vars(action), prog=prog)
    for key in list(params):
        if params[key] is argparse.SUPPRESS:
            del params[key]
    if params.get("choices") is not None:
        params["choices"] = ", ".join(str(c) for c in params["choices"])
    return " ".join((text % params).split())


def _completer(action: argparse.Action, metavars: tuple[str, ...]) -> str:
    import argparse

    explicit = getattr(action, "completer", None)
    if explicit:
        return explicit
    if action.nargs == 0:  # a flag: no value to complete
        return NONE
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return "choices"
    if isinstance(action, argparse._SubParsersAction):
        return "choices"
    # Guess from the metavar the tool chose; without one, only from a dest that
    # is a whole guess word ("model", "image"), so --max-models N stays a number.
    if action.metavar is not None:
        text = " ".join(metavars).upper()
        if "ORG/NAME" in text:
            return MODEL
        words = re.split(r"[^A-Z]+", text)
    else:
        words = [action.dest.upper()]
    for word in words:
        if word in _GUESS:
            return _GUESS[word]
    return NONE


def _subcommands(action: argparse._SubParsersAction) -> dict[str, str]:
    helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
    return {name: helps.get(name, "") for name in action.choices}
