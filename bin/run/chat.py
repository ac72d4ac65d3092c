"""mlx-run's interactive chat.

The whole conversation is re-rendered through the chat template every turn,
so the model sees proper turns; its answer ends at its end-of-turn token, so
it never writes the user's next line itself.  The KV cache of the previous
turns is kept, so a turn processes only its new tokens.  Ctrl-C stops the answer being
written (what was written stays in the history) and keeps the session;
Ctrl-D or /exit leaves.  When the history outgrows the context window, the
oldest exchanges are dropped, with a note.
"""

from __future__ import annotations

from mlxk_bin.run.output import AnswerPrinter, note_finish
from mlxk_common.cli import Interrupted
from mlxk_common.errors import MlxkError

PROMPT = ">>> "
HELP = ("commands: /clear (forget the conversation), /system TEXT (set the system prompt; no TEXT removes it), "
        "/exit (or Ctrl-D) to leave; Ctrl-C stops an answer")


def chat(ctx, engine, name: str, settings) -> int:
    env = ctx.env
    tool = ctx.tool.name
    read = _line_reader(env)
    interactive = env.stdin_isatty
    system = settings.system
    history: list[dict] = []
    cache = engine.conversation()  # each turn processes only its new tokens
    if interactive:
        ctx.out.info(f"{tool}: chatting with {name}; /help for commands, Ctrl-D or /exit to leave")
    while True:
        try:
            line = read(PROMPT if interactive else "")
        except EOFError:
            if interactive:
                env.stdout.write("\n")
            return 0
        except KeyboardInterrupt as exc:
            if isinstance(exc, Interrupted):
                raise
            env.stdout.write("\n")  # Ctrl-C at the prompt: a fresh line, the session goes on
            continue
        text = line.strip()
        if not text:
            continue
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command in ("/exit", "/quit", "/bye"):
                return 0
            if command == "/clear":
                history.clear()
                cache.reset()
                ctx.out.info(f"{tool}: conversation cleared")
            elif command == "/system":
                system = rest.strip() or None
                ctx.out.info(f"{tool}: system prompt {'set' if system else 'removed'}")
            elif command in ("/help", "/?"):
                ctx.out.info(HELP)
            else:
                ctx.out.info(f"{tool}: unknown command {command}; {HELP}")
            continue
        request = _fit(ctx, engine, settings, system, history, line)
        if request is None:
            continue
        answer = _answer(ctx, engine, settings, request, cache)
        history += [{"role": "user", "content": line}, {"role": "assistant", "content": answer}]


def _fit(ctx, engine, settings, system, history, line):
    """The request for this turn, dropping the oldest exchanges while the
    conversation does not fit the context window."""
    while True:
        messages = ([{"role": "system", "content": system}] if system else []) + history
        messages.append({"role": "user", "content": line})
        try:
            return settings.prepare(engine, messages=messages, system=None)
        except MlxkError as exc:
            if exc.type == "context_length_exceeded" and history:
                del history[:2]
                ctx.out.info(f"{ctx.tool.name}: note: the conversation outgrew the context window; "
                             "dropped the oldest exchange")
                continue
            ctx.out.info(f"{ctx.tool.name}: error: {exc.message}")
            return None


def _answer(ctx, engine, settings, request, cache) -> str:
    env = ctx.env
    printer = AnswerPrinter(env.stdout, stream=True, color=env.color, hide_reasoning=settings.hide_reasoning,
                            markers=engine.markers)
    parts: list[str] = []
    finished = None
    events = engine.generate(request, conversation=cache)
    try:
        for event in events:
            if event.kind == "finished":
                finished = event
            else:
                printer.delta(event.content, event.reasoning)
                parts.append(event.content)
    except KeyboardInterrupt as exc:
        if isinstance(exc, Interrupted):
            raise
        events.close()
        printer.end()
        ctx.out.info(f"{ctx.tool.name}: answer stopped")
        return "".join(parts)
    printer.end()
    if finished is not None:
        note_finish(ctx, finished)
    return finished.content if finished is not None else "".join(parts)


def _line_reader(env):
    if env.is_process and env.stdin_isatty:
        try:
            import readline  # noqa: F401 - importing it gives input() line editing and history
        except ImportError:
            pass
        return input

    def read(prompt: str) -> str:
        line = env.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return read
