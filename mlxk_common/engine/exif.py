"""EXIF metadata of a photo, the part vision users sort photos by: where, when, which camera.

``read_exif(data, format)`` -> ``{"datetime", "latitude", "longitude", "camera_make",
"camera_model"}`` (each None when absent) or None when the image has none of them.
GPS is rounded to 4 decimals (~11 m); the date-time is ISO 8601 (with its UTC
offset when the camera wrote one).  Broken EXIF is None, never an error:
exifread raises odd things on odd files (AssertionError on some HEIC).
``exif_block`` is the text the model sees; ``exif_table`` the Markdown
``<details>`` table of the human output.
"""

from __future__ import annotations

import io

FIELDS = ("datetime", "latitude", "longitude", "camera_make", "camera_model")


def read_exif(data: bytes, kind: str = "") -> dict | None:
    try:
        import exifread
    except ImportError:
        return None
    if kind in ("GIF", "BMP"):  # formats without EXIF
        return None
    _quiet(exifread)
    try:
        if kind in ("HEIF", "HEIC"):
            data = _heic_exif(data)
            if not data:
                return None
        tags = exifread.process_file(io.BytesIO(data), details=False)
        return _summary(tags) if tags else None
    except Exception:  # noqa: BLE001 - any failure in a third-party parser means "no EXIF"
        return None


def _quiet(exifread) -> None:
    """exifread logs "File format not recognized." and the like for every photo without EXIF."""
    import logging

    logging.getLogger("exifread").disabled = True


def _camera(meta: dict) -> str:
    make, model = meta.get("camera_make") or "", meta.get("camera_model") or ""
    if make and model.lower().startswith(make.lower()):
        return model  # "Canon" + "Canon EOS R5"
    return " ".join(v for v in (make, model) if v)


def _heic_exif(data: bytes) -> bytes | None:
    from pillow_heif import open_heif

    raw = open_heif(io.BytesIO(data)).info.get("exif")
    return raw[6:] if raw and raw.startswith(b"Exif\0\0") else raw


def _text(tags, key) -> str | None:
    value = tags.get(key)
    if value is None:
        return None
    text = str(value.printable if hasattr(value, "printable") else value).strip().strip("\0").strip()
    return text or None


def _summary(tags) -> dict | None:
    out = dict.fromkeys(FIELDS)
    out["camera_make"] = _text(tags, "Image Make")
    out["camera_model"] = _text(tags, "Image Model")
    stamp = _text(tags, "EXIF DateTimeOriginal") or _text(tags, "Image DateTime")
    if stamp and len(stamp) >= 19 and stamp[4] == ":" and stamp[7] == ":":
        iso = f"{stamp[0:4]}-{stamp[5:7]}-{stamp[8:10]}T{stamp[11:19]}"
        offset = _text(tags, "EXIF OffsetTimeOriginal")
        if offset and len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
            iso += offset
        out["datetime"] = iso
    lat, lon = _gps(tags)
    if lat is not None:
        out["latitude"], out["longitude"] = round(lat, 4), round(lon, 4)
    return out if any(v is not None for v in out.values()) else None


def _gps(tags):
    def degrees(key):
        value = tags.get(key)
        parts = getattr(value, "values", None)
        if not parts or len(parts) != 3:
            return None
        d, m, s = (float(p.num) / float(p.den) if getattr(p, "den", 1) else 0.0 for p in parts)
        return d + m / 60 + s / 3600

    lat, lon = degrees("GPS GPSLatitude"), degrees("GPS GPSLongitude")
    if lat is None or lon is None:
        return None, None
    if (_text(tags, "GPS GPSLatitudeRef") or "N").upper().startswith("S"):
        lat = -lat
    if (_text(tags, "GPS GPSLongitudeRef") or "E").upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def exif_block(images) -> str:
    """The short text before the images that lets the model answer "where/when was this taken?"."""
    lines = []
    for image in images:
        meta = image.exif or {}
        facts = [f"file {image.file}"]
        if meta.get("datetime"):
            facts.append(f"taken {meta['datetime']}")
        if meta.get("latitude") is not None:
            facts.append(f"GPS {meta['latitude']:.4f}, {meta['longitude']:.4f}")
        camera = _camera(meta)
        if camera:
            facts.append(f"camera {camera}")
        lines.append(f"Image {image.index}: " + "; ".join(facts))
    return "[Image metadata]\n" + "\n".join(lines) + "\n\n" if lines else ""


def exif_table(images) -> str:
    """mlx-knife's collapsible Markdown table, one row per image; '' when none has EXIF.
    ``Filename`` is the content-derived name mlx-knife gives an image, ``Original`` the name it came with."""
    if not any(image.exif for image in images):
        return ""
    count = len(images)
    rows = ["<details>", f"<summary>📸 Image Metadata ({count} image{'s' if count != 1 else ''})</summary>", "",
            "<!-- mlxk:filenames -->", "| Image | Filename | Original | Location | Date | Camera |",
            "|-------|----------|----------|----------|------|--------|"]
    for image in images:
        meta = image.exif or {}
        location = "-"
        if meta.get("latitude") is not None:
            lat, lon = meta["latitude"], meta["longitude"]
            location = f"📍 {abs(lat):.4f}°{'N' if lat >= 0 else 'S'}, {abs(lon):.4f}°{'E' if lon >= 0 else 'W'}"
        date = f"📅 {meta['datetime'][:10]}" if meta.get("datetime") else "-"
        rows.append(f"| {image.index} | {content_name(image)} | {_cell(image.file)} | {location} | {date} | "
                    f"{_cell(_camera(meta) or '-')} |")
    rows += ["", "</details>", ""]
    return "\n".join(rows) + "\n"


def content_name(image) -> str:
    """``image_<first 8 hex of sha256>.<ext>``: a stable name for the image's bytes."""
    ext = {"JPEG": "jpeg", "MPO": "jpeg", "HEIF": "heic"}.get(image.format, (image.format or "img").lower())
    return f"image_{image.sha256[:8]}.{ext}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
