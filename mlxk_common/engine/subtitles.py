"""Transcripts as subtitle files (SRT, WebVTT) and timed text lines: the
formats mlx-run --format and the server's response_format share."""

from __future__ import annotations


def clock(seconds: float, sep: str = ".", hours: bool = True) -> str:
    millis = max(0, round(seconds * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    head = f"{h:02d}:" if hours or h else ""
    return f"{head}{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(segments: list) -> list:
    return [s for s in segments if s.get("text", "").strip()]


def srt(segments: list) -> str:
    blocks = [f"{i}\n{clock(s['start'], ',')} --> {clock(s['end'], ',')}\n{s['text'].strip()}\n"
              for i, s in enumerate(_cues(segments), 1)]
    return "\n".join(blocks)


def vtt(segments: list) -> str:
    blocks = ["WEBVTT\n"] + [f"{clock(s['start'])} --> {clock(s['end'])}\n{s['text'].strip()}\n"
                             for s in _cues(segments)]
    return "\n".join(blocks)


def timed_lines(segments: list) -> str:
    """``[00:00.000 --> 00:03.340] text`` per segment (mlx-run --segments)."""
    return "".join(f"[{clock(s['start'], hours=False)} --> {clock(s['end'], hours=False)}] {s['text'].strip()}\n"
                   for s in _cues(segments))
