"""mlx-run --image: describe photos with a vision model, in chunks, with their EXIF metadata.

Images are read and checked (``engine.images``) before the model loads, so a
bad file costs milliseconds.  They are processed ``--chunk`` at a time, each
chunk a fresh request with its own KV cache, so descriptions never mix
between chunks.  The model sees a short EXIF block before the prompt (unless
--no-exif); the human output shows mlx-knife's collapsible ``<details>`` table
before each chunk's answer, ``Chunk 2/5: images 3–4`` headers when there is
more than one chunk; --json/--ndjson carry ``images`` records and, per chunk,
which images each answer belongs to.
"""

from __future__ import annotations

import os

from mlxk_bin.run.output import AnswerPrinter, note_finish, result_record
from mlxk_common.cli import Context
from mlxk_common.config import env_flag
from mlxk_common.engine.exif import exif_block, exif_table
from mlxk_common.engine.images import (
    DEFAULT_PROMPT,
    MAX_IMAGE_BYTES,
    MAX_REQUEST_BYTES,
    chunk_header,
    chunks_of,
    load_images,
)
from mlxk_common.errors import MlxkError
from mlxk_common.options import parse_size
from mlxk_common.output import HUMAN, NDJSON

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif"}


def add_arguments(parser, size_type) -> None:
    group = parser.add_argument_group("images (vision models)")
    group.add_argument("--image", nargs="+", action="extend", default=[], metavar="IMG",
                       help="one or more images (paths; '-' reads one image from stdin); JPEG, PNG, WebP, GIF, "
                            "BMP, TIFF, HEIC.  Words after the images that are not files become the prompt "
                            "(default prompt: \"Describe the image.\").  http(s) URLs only with "
                            "--allow-image-urls")
    group.add_argument("--allow-image-urls", action="store_true",
                       help="fetch http(s) image URLs given to --image (or in --ndjson-in \"images\"): http and "
                            "https only, at most 5 redirects, 10 s to connect and per read (20 s in all), no more "
                            "than --max-image; without it URLs are refused: no network (env MLXK2_ALLOW_IMAGE_URLS=1)")
    group.add_argument("--chunk", type=int, metavar="N",
                       help="images per chunk: each chunk is a fresh session with its own KV cache "
                            "(env MLXK2_VISION_CHUNK_SIZE; default 1)")
    group.add_argument("--no-exif", action="store_true",
                       help="leave out the images' EXIF metadata (file, GPS, date-time, camera): the model does "
                            "not see it and no table is shown (env MLXK2_EXIF_METADATA=0)")
    group.add_argument("--max-image", type=size_type, metavar="SIZE",
                       help="largest image file (env MLXK2_MAX_IMAGE; default 20MB); more is invalid_image")
    group.add_argument("--max-images-total", type=size_type, metavar="SIZE",
                       help="largest total of all images of one request (env MLXK2_MAX_IMAGES_TOTAL; "
                            "default 50MB)")


class VisionSettings:
    def __init__(self, ctx: Context):
        args, environ = ctx.args, ctx.env.environ
        self.chunk = ctx.setting(args.chunk, "MLXK2_VISION_CHUNK_SIZE", 1, int)
        if self.chunk < 1:
            raise MlxkError("usage_error", "--chunk must be at least 1")
        self.exif = not args.no_exif and env_flag(environ, "MLXK2_EXIF_METADATA", True)
        self.allow_urls = args.allow_image_urls or env_flag(environ, "MLXK2_ALLOW_IMAGE_URLS", False)
        self.max_image = ctx.setting(args.max_image, "MLXK2_MAX_IMAGE", MAX_IMAGE_BYTES, parse_size)
        self.max_total = ctx.setting(args.max_images_total, "MLXK2_MAX_IMAGES_TOTAL", MAX_REQUEST_BYTES, parse_size)


def split_prompt_words(args) -> None:
    """``--image a.jpg b.png Describe them`` : trailing words that are not files (and do
    not look like image names) are the prompt, not images."""
    images = args.image
    tail = []
    while images and images[-1] != "-" and not os.path.exists(images[-1]) \
            and os.path.splitext(images[-1])[1].lower() not in IMAGE_SUFFIXES \
            and not images[-1].lower().startswith(("http://", "https://")):
        tail.insert(0, images.pop())
    if tail:
        args.text[:0] = tail  # before any positional words
    if not images:
        raise MlxkError("usage_error", "--image names no image file", hint="mlx-run MODEL --image photo.jpg")


def read_images(ctx: Context, vs: VisionSettings):
    return load_images(ctx.args.image, stdin=ctx.env.stdin, max_image=vs.max_image, max_request=vs.max_total,
                       exif=vs.exif, allow_urls=vs.allow_urls)


def answer_images(ctx: Context, engine, name: str, settings, vs: VisionSettings, prompt: str, images) -> dict:
    """One answer per chunk, streamed in the output mode; returns the result record."""
    out = ctx.out
    chunks = chunks_of(images, vs.chunk)
    results = []
    for number, chunk in enumerate(chunks, 1):
        text = (exif_block(chunk) if vs.exif else "") + prompt
        request = settings.prepare(engine, prompt=text, images=chunk)
        printer = None
        if ctx.mode == HUMAN:
            header = chunk_header(number, len(chunks), chunk) + "\n" if len(chunks) > 1 else ""
            table = exif_table(chunk) if vs.exif else ""
            if header or table:
                ctx.env.stdout.write(("\n" if number > 1 else "") + header + (table + "\n" if table else ""))
            printer = AnswerPrinter(ctx.env.stdout, stream=ctx.args.stream or ctx.env.stdout_isatty,
                                    color=ctx.env.color, hide_reasoning=settings.hide_reasoning,
                                    markers=engine.markers)
        elif ctx.mode == NDJSON:
            out.event("chunk", chunk=number, chunks=len(chunks), images=[i.index for i in chunk])
        finished = None
        try:
            for event in engine.generate(request):
                if event.kind == "finished":
                    finished = event
                elif printer is not None:
                    printer.delta(event.content, event.reasoning)
                elif ctx.mode == NDJSON:
                    if event.reasoning and not settings.hide_reasoning:
                        out.event("delta", chunk=number, reasoning=event.reasoning)
                    if event.content:
                        out.event("delta", chunk=number, text=event.content)
        except KeyboardInterrupt:
            if printer is not None:
                printer.cut()
            raise
        if printer is not None:
            printer.end()
        first = number == 1
        note_finish(ctx, finished, engine.load_s if first else None, engine.cpu_path if first else None)
        record = result_record(name, prompt, finished, settings.hide_reasoning)
        results.append({"chunk": number, "images": [i.index for i in chunk],
                        "files": [i.file for i in chunk], **{k: record[k] for k in (
                            "response", "reasoning", "finish_reason", "usage", "timing")}})
    return combined(name, prompt, images, results, engine.load_s, engine.cpu_path)


def combined(name, prompt, images, results, load_s, cpu_path=None) -> dict:
    """The result record: the last chunk's fields at the top for one chunk; joined for several."""
    usage = {k: sum(r["usage"][k] for r in results) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
    response = "\n\n".join(r["response"] for r in results)
    reasons = [r["reasoning"] for r in results if r["reasoning"]]
    reasoning = "\n\n".join(reasons) if reasons else None
    first = results[0]["timing"]
    if cpu_path is not None:  # on a CPU device: which path ran and why, as for text (engine/cpu/path.py)
        first = {**first, "cpu": cpu_path}
    return {"model": name, "prompt": prompt, "response": response, "reasoning": reasoning,
            "reasoning_content": reasoning, "finish_reason": results[-1]["finish_reason"], "usage": usage,
            "timing": {"load_s": round(load_s, 3), **first}, "images": [i.record() for i in images],
            "chunks": results}


def default_prompt(words) -> list:
    return words or [DEFAULT_PROMPT]
