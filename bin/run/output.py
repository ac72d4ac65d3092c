"""mlx-run's human output of one answer.

Content is written as it is; reasoning is dimmed on a colour terminal, set
between the model's own markers otherwise, or dropped (``--hide-reasoning``).
Streaming writes each piece at once; otherwise the whole answer is one write
at the end (so a pipe reader gets it in one piece).  Also the result record
of --json/--ndjson and the stderr notes after an answer.
"""

from __future__ import annotations

from mlxk_common.cli import Context

DIM, RESET = "\x1b[2m", "\x1b[0m"


class AnswerPrinter:
    def __init__(self, stdout, *, stream: bool, color: bool, hide_reasoning: bool, markers=None):
        self.stdout = stdout
        self.stream = stream
        self.color = color
        self.hide_reasoning = hide_reasoning
        self.markers = markers or ("<think>", "</think>")
        self._parts: list[str] = []
        self._in_reasoning = False
        self.wrote = False

    def delta(self, content: str, reasoning: str = "") -> None:
        if reasoning and not self.hide_reasoning:
            if not self._in_reasoning:
                self._in_reasoning = True
                self._put(DIM if self.color else self.markers[0] + "\n")
            self._put(reasoning)
        if content:
            self._close_reasoning()
            self._put(content)
        if self.stream and (content or reasoning):
            self.stdout.flush()

    def end(self) -> None:
        """Finish the answer with a newline; in buffered mode, write it all now."""
        if self._in_reasoning:  # the answer ended inside its reasoning
            self._in_reasoning = False
            self._put(RESET if self.color else "\n" + self.markers[1])
        if self.wrote:
            self._put("\n")
        if not self.stream and self._parts:
            self.stdout.write("".join(self._parts))
            self._parts.clear()
        self.stdout.flush()

    def cut(self) -> None:
        """The answer stops here (Ctrl-C): end the line it left on the screen."""
        if self.stream and self.wrote:
            if self._in_reasoning and self.color:
                self.stdout.write(RESET)
            self.stdout.write("\n")
            self.stdout.flush()

    def _close_reasoning(self) -> None:
        if self._in_reasoning:
            self._in_reasoning = False
            self._put(RESET + "\n\n" if self.color else "\n" + self.markers[1] + "\n\n")

    def _put(self, text: str) -> None:
        self.wrote = True
        if self.stream:
            self.stdout.write(text)
        else:
            self._parts.append(text)


def result_record(name: str, prompt, finished, hide_reasoning: bool, load_s: float | None = None,
                  cpu_path: dict | None = None) -> dict:
    reasoning = None if hide_reasoning or not finished.reasoning else finished.reasoning
    timing = dict(finished.timing)
    if load_s is not None:
        timing = {"load_s": round(load_s, 3), **timing}
    if cpu_path is not None:
        timing["cpu"] = cpu_path
    record = {
        "model": name,
        "prompt": prompt,
        "response": finished.content,
        "reasoning": reasoning,
        "reasoning_content": reasoning,
        "finish_reason": finished.finish_reason,
        "usage": finished.usage,
        "timing": timing,
    }
    if finished.logprobs is not None:  # --logprobs: OpenAI's chat logprobs content entries
        record["logprobs"] = [e.to_openai() for e in finished.logprobs]
    return record


def note_finish(ctx: Context, finished, load_s: float | None = None, cpu_path: dict | None = None) -> None:
    """stderr notes: a cut answer, and the timing with --verbose."""
    if finished.finish_reason == "length":
        why = "--max-tokens" if finished.limit_source == "max_tokens" else "the context window"
        ctx.out.info(f"{ctx.tool.name}: note: the answer hit the token limit "
                     f"({finished.completion_tokens} tokens, set by {why})")
    if ctx.args.verbose:
        t = finished.timing
        ctx.out.info(f"{ctx.tool.name}: prompt {finished.prompt_tokens} tokens at {t['prompt_tps']} tokens/s, "
                     f"first token after {t['ttft_s']} s; generated {finished.completion_tokens} tokens at "
                     f"{t['generation_tps']} tokens/s" + (f"; model loaded in {load_s:.2f} s" if load_s else ""))
        if cpu_path:
            ctx.out.info(f"{ctx.tool.name}: {describe_cpu_path(cpu_path)}")


def describe_cpu_path(cpu: dict) -> str:
    """One line: which CPU path ran and why (engine/cpu/path.py)."""
    blas = "OpenBLAS" + (" with the one-row shim" if cpu.get("shim") else "") if cpu["blas"] == "openblas" \
        else "MLX's reference BLAS"
    threads = f", {cpu['threads']} thread{'s' if cpu['threads'] != 1 else ''}" if cpu.get("threads") else ""
    line = f"CPU path {cpu['path']} ({blas}{threads}): {cpu['reason']}"
    if cpu.get("generation") and cpu["generation"] != cpu["path"]:
        line += f"; generation {cpu['generation']}: {cpu['generation_reason']}"
    if cpu.get("prompt") and cpu["prompt"] != cpu["path"]:
        line += f"; prompts {cpu['prompt']}: {cpu['prompt_reason']}"
    ops = cpu.get("prompt_ops")
    if ops:
        line += f"; prompt ops {'on' if ops['active'] else 'off'}: {ops['reason']}"
    return line
