"""Human-readable cells and tables for model records (list, show, health)."""

from __future__ import annotations

import time

from mlxk_common.progress import human_bytes

DEFAULT_ORG_PREFIX = "mlx-community/"


def size(n: int | None) -> str:
    """Decimal units, like the Hub and mlx-knife: 1.2 GB."""
    if not isinstance(n, int):
        return "-"

    return human_bytes(n)


def age(iso_utc: str | None, now: float | None = None) -> str:
    """``3d ago`` for recent times, the date for older ones."""
    if not iso_utc:
        return "-"
    try:
        import calendar  # only when there is a date to show

        then = calendar.timegm(time.strptime(iso_utc, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return iso_utc
    seconds = int((time.time() if now is None else now) - then)
    if seconds < 0:
        return iso_utc[:10]
    if seconds < 60:
        return "just now"
    for unit, span, limit in (("m", 60, 60), ("h", 3600, 24), ("d", 86400, 30)):
        if seconds < span * limit:
            return f"{seconds // span}{unit} ago"
    return iso_utc[:10]


def short_hash(record: dict) -> str:
    value = record.get("hash") or record.get("content_hash")
    if not value:
        return "-"
    return value.split(":", 1)[-1][:7]


def display_name(record: dict, verbose: bool = False) -> str:
    """How a person refers to the model: a workspace as it was given (its
    ``display_name``), a cached model by ``ORG/NAME`` (mlx-community shortened)."""
    name = str(record.get("display_name") or record.get("name") or "-")
    if not verbose and record.get("cached") and name.startswith(DEFAULT_ORG_PREFIX):
        return name[len(DEFAULT_ORG_PREFIX):]
    return name


def type_label(record: dict) -> str:
    kind = str(record.get("model_type") or "-")
    caps = record.get("capabilities") or []
    if kind != "-" and "vision" in caps:
        kind += "+vision"
    if kind != "-" and "audio" in caps and not kind.startswith("audio"):
        kind += "+audio"
    return kind


def health_label(record: dict) -> str:
    """``healthy`` (files fine, runs here), ``healthy*`` (files fine, cannot
    run here) or ``unhealthy``."""
    if record.get("health") != "healthy":
        return "unhealthy"
    return "healthy" if record.get("runtime_compatible") else "healthy*"


def source_label(record: dict) -> str:
    if record.get("cached"):
        return "cache"
    clean = record.get("clean")
    return "ws" if clean is True else "ws*" if clean is False else "ws?"


def render(headers: list[str], rows: list[list[str]], max_widths: dict[int, int] | None = None) -> str:
    """Columns separated by two spaces, left-aligned; cells longer than their
    ``max_widths`` entry are cut with an ellipsis."""
    if max_widths:
        rows = [[_cut(cell, max_widths.get(i)) for i, cell in enumerate(row)] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in [headers, *rows]]
    return "\n".join(lines)


def _cut(cell: str, width: int | None) -> str:
    if width is None or len(cell) <= width:
        return cell
    return cell[: width - 1] + "…"
