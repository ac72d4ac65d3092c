"""Images for vision requests: read, check and describe them before any weights load.

``load_images(sources, ...)`` turns paths, ``-`` (stdin bytes) or raw bytes into
``ImageInput`` records: the decoded RGB picture (EXIF orientation applied,
first frame of a GIF), its sha256, size and EXIF summary.  Every failure is
``invalid_image`` naming the file: not found, a URL (no network, unless
``allow_urls``: then ``image_fetch`` fetches http(s) URLs), not an image, an
unsupported format, truncated, or over the per-image / per-request byte
limits.  Only Pillow (and pillow-heif for HEIC, when installed) is
imported, never mlx-vlm: a bad image fails in milliseconds.
"""

from __future__ import annotations

import hashlib
import io
import os

from mlxk_common.engine.exif import read_exif
from mlxk_common.engine.image_fetch import fetch_image
from mlxk_common.errors import MlxkError
from mlxk_common.progress import human_bytes

MAX_IMAGE_BYTES = 20 * 10**6  # per image
MAX_REQUEST_BYTES = 50 * 10**6  # all images of one request
FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO", "HEIF", "HEIC"}
DEFAULT_PROMPT = "Describe the image."


class ImageInput:
    """One checked image: ``index`` (1-based), ``file`` (a name to show), ``sha256``,
    ``width``/``height`` (after EXIF orientation), ``exif`` (dict or None), ``image`` (PIL, RGB)."""

    __slots__ = ("exif", "file", "format", "height", "image", "index", "sha256", "size", "width")

    def __init__(self, index, file, sha256, image, exif, size, format="JPEG"):
        self.format = format  # Pillow's name: JPEG, PNG, WEBP, ...
        self.index = index
        self.file = file
        self.sha256 = sha256
        self.image = image
        self.width, self.height = image.size
        self.exif = exif
        self.size = size

    def record(self) -> dict:
        """The JSON ``images[]`` record."""
        return {"index": self.index, "file": self.file, "sha256": self.sha256, "width": self.width,
                "height": self.height, "exif": self.exif}


def _invalid(file: str, why: str, **details) -> MlxkError:
    return MlxkError("invalid_image", f"{file}: {why}", file=file, **details)


def read_source(source: str, stdin=None, max_image: int = MAX_IMAGE_BYTES,
                allow_urls: bool = False) -> tuple[str, bytes]:
    """(name to show, bytes) of a path or '-'; http(s) URLs only when ``allow_urls``."""
    if source == "-":
        raw = getattr(stdin, "buffer", stdin)
        data = raw.read(max_image + 1) if raw is not None else b""
        if isinstance(data, str):
            data = data.encode("latin-1", "replace")
        if len(data) > max_image:
            raise _invalid("-", f"over {human_bytes(max_image)} (--max-image)", reason="too_large",
                           limit_bytes=max_image)
        return "-", data
    lowered = source.lower()
    if allow_urls and lowered.startswith(("http://", "https://")):
        return source, fetch_image(source, max_image)
    if lowered.startswith(("http://", "https://", "ftp://", "data:")):
        raise _invalid(source, "URLs are not fetched (no network); download the image and give its path, "
                       "or allow http(s) URLs with --allow-image-urls", reason="url")
    try:
        size = os.stat(source).st_size
        if size > max_image:
            raise _invalid(source, f"{human_bytes(size)} is over {human_bytes(max_image)} (--max-image)",
                           reason="too_large", limit_bytes=max_image, size_bytes=size)
        with open(source, "rb") as fh:
            data = fh.read(max_image + 1)
    except FileNotFoundError:
        raise _invalid(source, "no such file", reason="not_found") from None
    except IsADirectoryError:
        raise _invalid(source, "is a directory", reason="unreadable") from None
    except OSError as exc:
        raise _invalid(source, f"cannot be read ({exc.strerror or exc})", reason="unreadable") from None
    if len(data) > max_image:  # grew while we read it
        raise _invalid(source, f"over {human_bytes(max_image)} (--max-image)", reason="too_large",
                       limit_bytes=max_image)
    return source, data


def decode(file: str, data: bytes, index: int = 1, exif: bool = True) -> ImageInput:
    """Decode and check one image's bytes (all of it, so a truncated file fails here)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    _register_heif()
    if not data:
        raise _invalid(file, "is empty", reason="not_image")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            kind = opened.format or "?"
            if kind not in FORMATS:
                raise _invalid(file, f"{kind} images are not supported (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC)",
                               reason="unsupported_format", format=kind)
            opened.seek(0)  # a GIF's (or multi-page TIFF's) first frame
            opened.load()
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except MlxkError:
        raise
    except UnidentifiedImageError:
        hint = " (HEIC needs pillow-heif: pip install 'mlxk[vision]')" if _looks_heic(data) else ""
        raise _invalid(file, "is not an image" + hint, reason="not_image") from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise _invalid(file, f"cannot be decoded (truncated or corrupt: {' '.join(str(exc).split())[:120]})",
                       reason="corrupt") from None
    name = "-" if file == "-" else os.path.basename(file)
    return ImageInput(index, name, hashlib.sha256(data).hexdigest(), picture,
                      read_exif(data, kind) if exif else None, len(data), kind)


def load_images(sources, *, stdin=None, max_image: int = MAX_IMAGE_BYTES, max_request: int = MAX_REQUEST_BYTES,
                exif: bool = True, allow_urls: bool = False) -> list[ImageInput]:
    """Read, check and decode every image of one request, in order."""
    if sum(1 for s in sources if s == "-") > 1:
        raise MlxkError("usage_error", "'-' (an image on stdin) can be given once")
    total = 0
    images = []
    for index, source in enumerate(sources, 1):
        file, data = read_source(source, stdin, max_image, allow_urls)
        total += len(data)
        if total > max_request:
            raise _invalid(file, f"the images add up to over {human_bytes(max_request)} (--max-images-total)",
                           reason="request_too_large", limit_bytes=max_request)
        images.append(decode(file, data, index, exif))
    return images


def chunks_of(images: list, size: int | None) -> list[list]:
    """The images ``size`` at a time (all in one chunk when ``size`` is None)."""
    size = size or max(1, len(images))
    return [images[i:i + size] for i in range(0, len(images), size)]


def chunk_header(number: int, total: int, chunk) -> str:
    """``Chunk 2/5: images 3–4``: which images a chunk's answer belongs to (mlx-run's and the server's)."""
    first, last = chunk[0].index, chunk[-1].index
    span = f"image {first}" if first == last else f"images {first}–{last}"
    return f"Chunk {number}/{total}: {span}"


def _looks_heic(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis")


_HEIF = None


def _register_heif() -> None:
    """HEIC through pillow-heif, when it is installed (part of the 'vision' extra)."""
    global _HEIF
    if _HEIF is None:
        try:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _HEIF = True
        except ImportError:
            _HEIF = False
