"""Audio bytes -> 16 kHz mono float32 samples, the input of every speech model.

WAV, MP3 and FLAC decode with miniaudio (a small self-contained library);
everything else (M4A/AAC, OGG/Opus, WebM, ...) with PyAV, whose wheel bundles
FFmpeg's libraries: no ffmpeg binary is needed.  Anything neither can read is
``invalid_audio``, naming the input.  Both libraries load on first use.
"""

from __future__ import annotations

from mlxk_common.errors import MlxkError

SAMPLE_RATE = 16000
_MINIAUDIO_MAGIC = (b"RIFF", b"RF64", b"fLaC", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xfa")


def decode(data: bytes, name: str):
    """The samples of ``data`` (a whole file's bytes) as a float32 numpy array
    at 16 kHz, mono; ``name`` is how errors call the input."""
    if not data:
        raise invalid(name, "the file is empty")
    samples = None
    if data.startswith(_MINIAUDIO_MAGIC):
        samples = _miniaudio(data)
    if samples is None:
        samples = _pyav(data, name)
    if samples.size == 0:
        raise invalid(name, "no audio samples in the file")
    return samples


def invalid(name: str, why: str) -> MlxkError:
    return MlxkError("invalid_audio", f"{name}: {why}", file=name)


def _miniaudio(data: bytes):
    import miniaudio
    import numpy as np

    try:
        sound = miniaudio.decode(data, output_format=miniaudio.SampleFormat.FLOAT32, nchannels=1,
                                 sample_rate=SAMPLE_RATE)
    except miniaudio.MiniaudioError:
        return None  # a damaged or odd variant: PyAV gets its turn
    return np.frombuffer(sound.samples, dtype=np.float32).copy()


def _pyav(data: bytes, name: str):
    import io

    import av
    import numpy as np

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            streams = container.streams.audio
            if not streams:
                raise invalid(name, "no audio stream in the file")
            stream = streams[0]
            # The resampler drops nothing at the start: FFmpeg's decoders already
            # skip the encoder delay (AAC priming samples) that the container's
            # edit list or skip_samples side data declare, so times start at 0.
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            chunks = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except MlxkError:
        raise
    except (av.FFmpegError, ValueError, OSError, EOFError) as exc:
        raise invalid(name, f"not a readable audio file ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)
