#!/usr/bin/env python3
"""Speech to text: mlxk against mlx-audio as it comes and faster-whisper, same
weights, same clips.

The weights: a CTranslate2 Whisper folder (faster-whisper's form; default the
tiny.en the tests fetch) and the MLX folder ``mlxk-convert --from-ct2`` makes
of it.  Each run is a fresh process that times its own load and
transcription (wall and CPU seconds) and prints the text; peak RSS is the
process's.  Runs of the engines are interleaved (round by round), so
background load hits them alike; the table shows medians.

* mlxk: ``engine.speech`` (float32 on CPU, the fast BLAS when the install has
  it), greedy, as ``mlx-run --audio`` runs it;
* mlx-audio as it comes: ``mlx_audio.stt.load`` + ``generate(path)`` with its
  defaults (float16, temperature fallback tuple);
* faster-whisper (CTranslate2) on the CPU, float32 and int8, 2 threads, greedy
  (beam_size 1, as mlxk decodes; faster-whisper's own default is 5 beams).

Columns: real-time factor (transcription wall seconds / audio seconds), CPU
seconds per audio second (all threads), load seconds, peak RSS, and word error
rate against the script (case and punctuation ignored).

faster-whisper comes with the ``bench`` extra (``pip install -e '.[bench]'``).

usage: python bench/audio_speed.py [--ct2 DIR] [--mlx DIR] [--clip FILE]... [--runs 3]
           [--skip-mlx-audio] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = "Hello everyone. Let's start the meeting. Today we will discuss the budget for next year."

CHILD_PRELUDE = r"""
import json, sys, time
args = json.loads(sys.argv[1])
def done(load_s, wall, cpu, text, extra=None):
    print(json.dumps({"load_s": load_s, "wall_s": wall, "cpu_s": cpu, "text": text, **(extra or {})}))
"""

MLXK_CHILD = CHILD_PRELUDE + r"""
t0 = time.perf_counter()
from mlxk_common.engine import load_engine
from mlxk_common.engine.audio import decode
engine = load_engine(args["mlx"])
load_s = time.perf_counter() - t0
samples = decode(open(args["clip"], "rb").read(), args["clip"])
w, c = time.perf_counter(), time.process_time()
result = engine.transcribe(samples)
from mlxk_common.engine.speech import cpu_blas
from mlxk_common.engine.cpu.pool import pool
own = pool()  # Whisper's own threads (OpenBLAS then at one), with MLXK2_CPU_THREADS >= 2
done(load_s, time.perf_counter() - w, time.process_time() - c, result["text"],
     {"dtype": engine.dtype, "blas": cpu_blas().get("blas", "reference"),
      "threads": 1 if own else cpu_blas().get("threads"), "own_threads": own.size if own else 1})
"""

MLX_AUDIO_CHILD = CHILD_PRELUDE + r"""
import warnings; warnings.simplefilter("ignore")
from pathlib import Path
t0 = time.perf_counter()
from mlx_audio.stt import load
model = load(Path(args["mlx"]))
load_s = time.perf_counter() - t0
w, c = time.perf_counter(), time.process_time()
out = model.generate(args["clip"])
done(load_s, time.perf_counter() - w, time.process_time() - c, out.text.strip())
"""

FASTER_WHISPER_CHILD = CHILD_PRELUDE + r"""
t0 = time.perf_counter()
from faster_whisper import WhisperModel
model = WhisperModel(args["ct2"], device="cpu", compute_type=args["compute"], cpu_threads=args["threads"])
load_s = time.perf_counter() - t0
w, c = time.perf_counter(), time.process_time()
segments, info = model.transcribe(args["clip"], beam_size=1, temperature=0.0, language="en")
text = "".join(s.text for s in segments).strip()
done(load_s, time.perf_counter() - w, time.process_time() - c, text)
"""


PROFILE_CHILD = CHILD_PRELUDE + r"""
# Where mlxk's time goes, per clip, in CPU seconds: the log-mel spectrogram,
# the encoder (every 30-second window it ran), the decoder's token steps, and
# the rest (logit rules, timestamps, text, the window loop).
from mlxk_common.engine.speech import cpu_blas
cpu_blas()  # before mlx.core, as the tools do
import mlx.core as mx
from mlxk_common.engine import load_engine
from mlxk_common.engine.audio import decode
from mlx_audio.stt.models.whisper.audio import log_mel_spectrogram
engine = load_engine(args["mlx"])
greedy = engine.model.decode.__self__  # engine.whisper_greedy.GreedyWhisper
parts = {"encoder_s": 0.0, "decoder_s": 0.0, "windows": 0, "tokens": 0}
encode, state = greedy.encode, greedy.decoder_state
def timed_encode(mel):
    c = time.process_time()
    out = encode(mel)
    mx.eval(out)
    parts["encoder_s"] += time.process_time() - c
    parts["windows"] += 1
    return out
class TimedState(state):
    def step(self, *a, **k):
        c = time.process_time()
        out = super().step(*a, **k)
        parts["decoder_s"] += time.process_time() - c
        parts["tokens"] += 1
        return out
greedy.encode, greedy.decoder_state = timed_encode, TimedState
samples = decode(open(args["clip"], "rb").read(), args["clip"])
engine.transcribe(samples[: 16000 * 2])  # warm-up
parts.update(encoder_s=0.0, decoder_s=0.0, windows=0, tokens=0)
c = time.process_time()
mx.eval(log_mel_spectrogram(mx.array(samples), n_mels=engine.model.dims.n_mels, padding=16000 * 30))
mel_s = time.process_time() - c
c = time.process_time()
engine.transcribe(samples)
total = time.process_time() - c
done(0, 0, total, "", {"mel_s": mel_s, **parts})
"""


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def wer(reference: list[str], hypothesis: list[str]) -> float:
    """Word error rate: word-level edit distance over the reference length."""
    prev = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        cur = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref != hyp))
        prev = cur
    return prev[-1] / max(1, len(reference))


def measured(code: str, args: dict, env: dict) -> dict:
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"a run failed: {err.decode()[-800:]}")
    record = json.loads(out.decode().strip().splitlines()[-1])
    record["rss_mb"] = usage.ru_maxrss / 1024
    return record


def duration(clip: str) -> float:
    sys.path.insert(0, str(REPO))
    from mlxk_common.engine.audio import SAMPLE_RATE, decode

    with open(clip, "rb") as fh:
        return len(decode(fh.read(), clip)) / SAMPLE_RATE


def default_clips(folder: Path) -> list[str]:
    """The tests' sentence (espeak-ng), and one minute of it repeated with silence."""
    import wave

    short = folder / "meeting.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(short), SCRIPT], check=True)
    with wave.open(str(short), "rb") as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    gap = b"\0" * (params.sampwidth * params.framerate * 3)
    minute = folder / "minute.wav"
    with wave.open(str(minute), "wb") as w:
        w.setparams(params)
        w.writeframes((frames + gap) * 6)
    return [str(short), str(minute)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ct2", help="CTranslate2 Whisper folder (default: the tests' tiny.en, fetched)")
    parser.add_argument("--mlx", help="its MLX form (default: converted now with mlxk-convert --from-ct2)")
    parser.add_argument("--clip", action="append", help="audio file (repeatable; default: the tests' sentence "
                                                        "and a minute of it)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="faster-whisper's cpu_threads")
    parser.add_argument("--mlxk-threads", default="1,2",
                        help="mlxk's threads (MLXK2_CPU_THREADS), a row each (default 1,2)")
    parser.add_argument("--skip-mlx-audio", action="store_true", help="mlx-audio as it comes is very slow on CPU")
    parser.add_argument("--mlx-audio-clips", type=int, default=1,
                        help="clips mlx-audio as it comes runs on (the first N; default 1)")
    args = parser.parse_args()
    args.mlxk_threads = [int(t) for t in args.mlxk_threads.split(",") if t.strip()]

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    tmp = Path(tempfile.mkdtemp(prefix="audio-bench-"))
    if args.ct2 is None:
        sys.path.insert(0, str(REPO / "scripts"))
        import fetch_whisper

        args.ct2 = str(fetch_whisper.fetch(Path(os.environ.get("MLXK_TEST_DATA") or REPO / ".cache/fixtures")))
    if args.mlx is None:
        args.mlx = str(tmp / "whisper")
        subprocess.run([str(Path(sys.executable).parent / "mlxk-convert"), args.ct2, args.mlx, "--from-ct2"],
                       check=True, stdout=subprocess.DEVNULL)
    clips = args.clip or default_clips(tmp)
    engines = [(f"mlxk, {t} thread{'s' if t > 1 else ''}", MLXK_CHILD, {"mlxk_threads": t})
               for t in args.mlxk_threads]
    engines += [("faster-whisper f32", FASTER_WHISPER_CHILD, {"compute": "float32"}),
                ("faster-whisper int8", FASTER_WHISPER_CHILD, {"compute": "int8"})]
    if not args.skip_mlx_audio:
        engines.insert(len(args.mlxk_threads), ("mlx-audio as it comes", MLX_AUDIO_CHILD, {}))
    reference = words(SCRIPT)
    print(f"# {len(clips)} clip(s), {args.runs} interleaved rounds, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    for index, clip in enumerate(clips):
        seconds = duration(clip)
        results: dict[str, list[dict]] = {name: [] for name, _, _ in engines}
        for _ in range(args.runs):
            for name, code, extra in engines:
                if name.startswith("mlx-audio") and index >= args.mlx_audio_clips:
                    continue
                run_args = {"mlx": args.mlx, "ct2": args.ct2, "clip": clip, "threads": args.threads, **extra}
                child_env = {**env, "MLXK2_CPU_THREADS": str(extra["mlxk_threads"])} if "mlxk_threads" in extra else env
                results[name].append(measured(code, run_args, child_env))
        first = results[engines[0][0]][0]
        repeats = round(len(words(first["text"])) / len(reference)) or 1
        print(f"\n## {Path(clip).name}: {seconds:.2f} s of audio\n")
        print("| engine | RTF | RTF / faster-whisper f32 | CPU s / audio s | load s | peak RSS MB | WER | notes |")
        print("|---|---|---|---|---|---|---|---|")
        fw = results.get("faster-whisper f32")
        fw_rtf = statistics.median(r["wall_s"] for r in fw) / seconds if fw else None
        for name, _, _ in engines:
            runs = results[name]
            if not runs:
                continue
            rtf = statistics.median(r["wall_s"] for r in runs) / seconds
            cpu = statistics.median(r["cpu_s"] for r in runs) / seconds
            error = statistics.median(wer(reference * repeats, words(r["text"])) for r in runs)
            note = f"{r['dtype']}, {r['blas']} BLAS x{r.get('threads')}" if "dtype" in (r := runs[0]) else ""
            if r.get("own_threads", 1) > 1:
                note += f", {r['own_threads']} threads of its own"
            ratio = f"{rtf / fw_rtf:.2f}" if fw_rtf else ""
            print(f"| {name} | {rtf:.3f} | {ratio} | {cpu:.3f} | {statistics.median(r['load_s'] for r in runs):.2f} | "
                  f"{statistics.median(r['rss_mb'] for r in runs):.0f} | {error:.3f} | {note} |")
        texts = {name: results[name][0]["text"] for name, _, _ in engines if results[name]}
        same = len({" ".join(words(t)) for t in texts.values()}) == 1
        print(f"\nsame transcript (case and punctuation ignored) from every engine: {same}")
        for threads in args.mlxk_threads:
            p = measured(PROFILE_CHILD, {"mlx": args.mlx, "clip": clip}, {**env, "MLXK2_CPU_THREADS": str(threads)})
            rest = p["cpu_s"] - p["mel_s"] - p["encoder_s"] - p["decoder_s"]
            print(f"mlxk CPU seconds (MLXK2_CPU_THREADS={threads}): mel {p['mel_s']:.2f}, encoder {p['encoder_s']:.2f} "
                  f"({p['windows']} window(s), {p['encoder_s'] / max(1, p['windows']):.2f} each), decoder steps "
                  f"{p['decoder_s']:.2f} ({p['tokens']} steps, {1000 * p['decoder_s'] / max(1, p['tokens']):.1f} ms "
                  f"each), the rest {rest:.2f}, of {p['cpu_s']:.2f}")
        if not same:
            for name, text in texts.items():
                print(f"  {name}: {text[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
