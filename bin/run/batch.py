"""mlx-run --ndjson-in: one request per stdin line, one result line per request.

Lines are read on a background thread, so generation goes on while a slow
producer writes the next request.  Up to --batch-size requests decode
together through the engine's ``BatchScheduler`` (mlx-lm's continuous
batching); results are written in input order as soon as every earlier
line is done.  A bad line becomes an error line in its place; the rest go on
and the exit status is 1.
"""

from __future__ import annotations

import queue

from mlxk_bin.run.agents import line_options, with_calls
from mlxk_bin.run.output import result_record
from mlxk_common.engine.exif import exif_block
from mlxk_common.engine.images import load_images
from mlxk_common.errors import MlxkError
from mlxk_common.iox import TOO_LONG, UNDECODABLE, text_lines
from mlxk_common.jsonio import JSONDecodeError, loads
from mlxk_common.output import JSON
from mlxk_common.progress import human_bytes

# Per-line options besides prompt/messages, and how to check them.
_SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty",
                  "frequency_penalty", "seed")


def ndjson_batch(ctx, engine, name: str, settings, batch_size: int, vision_settings=None) -> int:
    import threading

    lines: queue.Queue = queue.Queue(maxsize=batch_size * 4)
    threading.Thread(target=_read_lines, args=(ctx.env.stdin, lines, settings.max_input), name="ndjson-in",
                     daemon=True).start()
    scheduler = engine.batch(max_batch=batch_size)
    done: dict[int, dict] = {}
    meta: dict[int, tuple] = {}
    next_out = count = errors = 0
    collected: list[dict] = []
    eof = False

    def write_ready():
        nonlocal next_out
        while next_out in done:
            record = done.pop(next_out)
            next_out += 1
            if ctx.mode == JSON:
                collected.append(record)
            else:
                ctx.out.json_line(record)

    try:
        while True:
            while not eof and scheduler.active < batch_size:
                try:
                    item = lines.get(block=scheduler.active == 0)
                except queue.Empty:
                    break
                if item is None:
                    eof = True
                    break
                index, (line_no, text, problem) = count, item
                count += 1
                try:
                    _check_line(line_no, problem, settings.max_input)
                    request, ident, prompt, images, agent = _request(engine, settings, text, line_no,
                                                                     vision_settings)
                    scheduler.submit(request, rid=index)
                    meta[index] = (ident, prompt, line_no, images, agent)
                except MlxkError as exc:
                    errors += 1
                    done[index] = _error_record(index, line_no, exc, text or "")
            write_ready()
            if scheduler.active == 0:
                if eof:
                    break
                continue
            for event in scheduler.step():
                if event.kind == "finished":
                    ident, prompt, line_no, images, agent = meta.pop(event.rid)
                    record = {"event": "result", "index": event.rid, "line": line_no}
                    if ident is not None:
                        record["id"] = ident
                    record.update(with_calls(result_record(name, prompt, event, settings.hide_reasoning), engine,
                                             event, agent))
                    if images is not None:
                        record["images"] = [image.record() for image in images]
                    done[event.rid] = record
            write_ready()
    finally:
        scheduler.close()
    if ctx.mode == JSON:
        ctx.out.envelope({"model": name, "count": count, "errors": errors, "load_s": round(engine.load_s, 3),
                          "results": collected})
    return 1 if errors else 0


def _read_lines(stdin, lines: queue.Queue, max_bytes: int) -> None:
    """(line number, text, problem) for each non-empty line, then None."""
    try:
        for line_no, text, problem in text_lines(stdin, max_bytes):
            if problem is not None or text.strip():
                lines.put((line_no, text, problem))
    except (OSError, ValueError) as exc:  # unreadable input ends the batch
        lines.put((0, None, f"stdin could not be read: {exc}"))
    finally:
        lines.put(None)


def _check_line(line_no: int, problem: str | None, limit: int) -> None:
    if problem == TOO_LONG:
        raise MlxkError("input_too_large", f"line {line_no} is over {human_bytes(limit)} (--max-input)",
                        limit_bytes=limit)
    if problem == UNDECODABLE:
        raise MlxkError("usage_error", f"line {line_no} is not text (undecodable bytes)")
    if problem is not None:
        raise MlxkError("usage_error", problem)


def _request(engine, settings, text: str, line_no: int, vision_settings=None):
    """(prepared request, its id, its prompt, its images or None) for one input line."""
    where = f"line {line_no}"
    try:
        obj = loads(text)
    except JSONDecodeError as exc:
        raise MlxkError("usage_error", f"{where}: not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise MlxkError("usage_error", f"{where}: a request must be a JSON object")
    prompt, messages = obj.get("prompt"), obj.get("messages")
    if (prompt is None) == (messages is None):
        raise MlxkError("usage_error", f"{where}: give either \"prompt\" or \"messages\"")
    if prompt is not None and (not isinstance(prompt, str) or not prompt.strip()):
        raise MlxkError("usage_error", f"{where}: \"prompt\" must be a non-empty string")
    changes = {k: obj[k] for k in _SAMPLING_KEYS if obj.get(k) is not None}
    try:
        sampling = settings.sampling.replace(**changes) if changes else settings.sampling
        options = {"sampling": sampling}
        if "max_tokens" in obj:
            options["max_tokens"] = obj["max_tokens"]
        if "system" in obj:
            options["system"] = _string(obj["system"], "system")
        if "stop" in obj:
            options["stop"] = obj["stop"] if isinstance(obj["stop"], (str, list)) else _bad("stop")
        template_args = obj.get("chat_template_args", obj.get("chat_template_kwargs"))
        if template_args is not None:
            if not isinstance(template_args, dict):
                _bad("chat_template_args")
            options["template_args"] = {**settings.template_args, **template_args}
        agent = {**settings.agent, **line_options(obj, settings.agent)}
        options.update(agent)
        images = _images(engine, obj, vision_settings)
        if images is not None:
            options["images"] = images
            block = exif_block(images) if vision_settings.exif else ""
            if prompt is not None:
                prompt_text = block + prompt
            else:
                messages = _with_block(messages, block)
        if prompt is not None:
            request = settings.prepare(engine, prompt=prompt if images is None else prompt_text, **options)
        else:
            request = settings.prepare(engine, messages=messages, **options)
    except MlxkError as exc:
        raise MlxkError(exc.type, f"{where}: {exc.message}", **exc.details) from None
    return request, obj.get("id"), prompt if prompt is not None else obj.get("messages"), images, agent


def _images(engine, obj: dict, vision_settings):
    """The line's "images" (paths), checked and decoded; None when it has none."""
    paths = obj.get("images")
    if paths is None:
        return None
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        _bad("images")
    if "-" in paths:
        raise MlxkError("usage_error", "\"images\" cannot read stdin ('-'): it holds the requests")
    if getattr(engine, "kind", None) != "vision":
        raise MlxkError("capability_not_supported", "this is a text model; images need a vision model")
    vs = vision_settings
    return load_images(paths, max_image=vs.max_image, max_request=vs.max_total, exif=vs.exif,
                       allow_urls=vs.allow_urls)


def _with_block(messages, block: str):
    """The EXIF block goes in front of the last user message's text."""
    if not block or not isinstance(messages, list):
        return messages
    out = list(messages)
    for i in range(len(out) - 1, -1, -1):
        message = out[i]
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                out[i] = {**message, "content": block + content}
            elif isinstance(content, list):
                out[i] = {**message, "content": [{"type": "text", "text": block}, *content]}
            break
    return out


def _string(value, key):
    if value is not None and not isinstance(value, str):
        _bad(key)
    return value


def _bad(key):
    raise MlxkError("usage_error", f"\"{key}\" has the wrong type")


def _error_record(index: int, line_no: int, exc: MlxkError, text: str) -> dict:
    record = {"event": "error", "index": index, "line": line_no}
    ident = _id_of(text)
    if ident is not None:
        record["id"] = ident
    record["error"] = exc.to_dict()
    return record


def _id_of(text: str):
    try:
        obj = loads(text)
    except (JSONDecodeError, ValueError):
        return None
    return obj.get("id") if isinstance(obj, dict) else None
