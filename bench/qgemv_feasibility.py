#!/usr/bin/env python3
"""The quantized matrix-vector kernel against OpenBLAS sgemv (docs/cpu.md).

Compiles scripts/kernels/qgemv*.c with gcc into a temporary shared library
(dev-time only: the engine ships the machine code, see
scripts/build_kernels.py), checks it against ``mx.dequantize`` and times,
for the shapes of the random 0.49B llama (hidden 1024, 4 KV heads of 64,
FFN 4096, 32 layers, a 267-row 8-bit output layer):

* per shape, one row through the kernel (each variant the CPU has) and
  through OpenBLAS ``sgemv`` on the dequantized float32 matrix, cycling over
  ``--copies`` distinct matrices so that the weights come from memory as in a
  real token, not from the cache (CPU ms per product, GB/s of weight bytes);
* a whole token's 225 products (32 layers x 7 + the output layer), kernel vs
  sgemv, in interleaved rounds (CPU seconds; medians and their ratio).

usage: python bench/qgemv_feasibility.py [--bits 4] [--group 32] [--rounds 5] [--copies 32] [--layers 32]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlxk_common.engine.cpu import blas

REPO = Path(__file__).resolve().parents[1]
KERNELS = REPO / "scripts" / "kernels"
ENTRIES = {"qgemv4_avx512": "-mavx512f", "qgemv8_avx512": "-mavx512f", "qgemv4_avx2": "-mavx2", "qgemv8_avx2": "-mavx2"}
HIDDEN, KV, FFN, VOCAB = 1024, 256, 4096, 267
LAYER = [("q", HIDDEN, HIDDEN), ("k", KV, HIDDEN), ("v", KV, HIDDEN), ("o", HIDDEN, HIDDEN),
         ("gate", FFN, HIDDEN), ("up", FFN, HIDDEN), ("down", HIDDEN, FFN)]  # fmt: skip


def build() -> ctypes.CDLL:
    work = Path(tempfile.mkdtemp(prefix="qgemv-"))
    objects = []
    for name, flag in ENTRIES.items():
        obj = work / f"{name}.o"
        subprocess.run(
            ["gcc", "-O2", "-fPIC", flag, "-mfma", "-c", "-o", str(obj), str(KERNELS / f"{name}.c")], check=True
        )
        objects.append(str(obj))
    out = work / "libqgemv.so"
    subprocess.run(["gcc", "-shared", "-o", str(out), *objects], check=True)
    lib = ctypes.CDLL(str(out))
    for name in ("qgemv4_avx512", "qgemv8_avx512", "qgemv4_avx2", "qgemv8_avx2"):
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.c_void_p] * 5 + [ctypes.c_int64] * 4 + [ctypes.c_void_p]
        fn.restype = None
    return lib


def variants() -> list[str]:
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    out = []
    if "avx512f" in flags:
        out.append("avx512")
    if {"avx2", "fma"} <= flags:
        out.append("avx2")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bits", type=int, default=4)
    parser.add_argument("--group", type=int, default=32)
    parser.add_argument("--head-bits", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=32, help="distinct matrices per shape (out of cache)")
    parser.add_argument("--layers", type=int, default=32)
    args = parser.parse_args()
    state = blas.ensure()
    import mlx.core as mx
    import numpy as np

    if state["blas"] != "openblas":
        sys.exit(f"OpenBLAS is not loaded: {state['reason']}")
    gemv = blas.matvec()
    lib = build()
    kinds = variants()
    load = os.getloadavg()
    print(
        f"load average {load[0]:.2f} at the start; variants: {', '.join(kinds)}; bits {args.bits}, group {args.group}"
    )

    def quantized(rows, cols, bits, seed):
        mx.random.seed(seed)
        w = mx.random.normal((rows, cols)) * 0.05
        q, s, b = mx.quantize(w, group_size=args.group, bits=bits)
        deq = mx.dequantize(q, s, b, group_size=args.group, bits=bits).astype(mx.float32)
        mx.eval(q, s, b, deq)
        return (np.array(q), np.array(s, np.float32), np.array(b, np.float32)), np.array(deq)

    def kernel(kind, bits):
        return getattr(lib, f"qgemv{bits}_{kind}")

    def run_q(fn, packed, x, y, scratch):
        q, s, b = packed
        rows = q.shape[0]
        fn(q.ctypes.data, s.ctypes.data, b.ctypes.data, x.ctypes.data, y.ctypes.data, rows, x.shape[-1],
           args.group, 1, scratch.ctypes.data)  # fmt: skip

    # Correctness first: every variant, against the dequantized matrix in float64.
    rng = np.random.default_rng(0)
    for bits in (4, 8):
        for kind in kinds:
            packed, deq = quantized(67, 256, bits, 1)
            x = rng.standard_normal(256).astype(np.float32)
            y, scratch = np.empty(67, np.float32), np.empty(256, np.float32)
            run_q(kernel(kind, bits), packed, x, y, scratch)
            ref = deq.astype(np.float64) @ x
            err = np.abs(y - ref).max() / np.abs(ref).max()
            print(f"check {kind} {bits}-bit: max error {err:.2e} of the largest")
            assert err < 1e-5

    # Per shape, out of cache.
    shapes = sorted({(r, c) for _n, r, c in LAYER}) + [(VOCAB, HIDDEN)]
    print(f"\n{'shape':<12} {'path':<14} {'ms':>8} {'GB/s':>7} {'MB read':>8}")
    mats = {}
    for rows, cols in shapes:
        bits = args.head_bits if rows == VOCAB else args.bits
        mats[(rows, cols)] = [quantized(rows, cols, bits, 100 + i) for i in range(args.copies)]
        x = rng.standard_normal(cols).astype(np.float32)
        y, scratch = np.empty(rows, np.float32), np.empty(cols, np.float32)
        copies = mats[(rows, cols)]
        qbytes = sum(a.nbytes for a in copies[0][0])
        fbytes = copies[0][1].nbytes
        tests = {f"kernel {k}": (lambda k=k, b=bits, x=x, y=y, s=scratch, cs=copies:
                                 [run_q(kernel(k, b), p, x, y, s) for p, _d in cs]) for k in kinds}  # fmt: skip
        tests["sgemv float32"] = lambda x=x, y=y, cs=copies: [gemv(d, x, y) for _p, d in cs]
        for label, fn in tests.items():
            times = []
            for _ in range(args.rounds):
                t = time.process_time()
                fn()
                times.append((time.process_time() - t) / len(copies))
            ms = statistics.median(times)
            nbytes = fbytes if label.startswith("sgemv") else qbytes
            print(f"{rows}x{cols:<7} {label:<14} {ms * 1e3:8.3f} {nbytes / ms / 1e9:7.1f} {nbytes / 1e6:8.2f}")

    # A whole token: every layer's products, distinct weights (the copies are reused
    # round-robin when --layers exceeds --copies).
    token_q, token_f = [], []
    for layer in range(args.layers):
        for _n, rows, cols in LAYER:
            p, d = mats[(rows, cols)][layer % args.copies]
            token_q.append((p, args.bits))
            token_f.append(d)
    p, d = mats[(VOCAB, HIDDEN)][0]
    token_q.append((p, args.head_bits))
    token_f.append(d)
    xs = {c: rng.standard_normal(c).astype(np.float32) for c in (HIDDEN, FFN)}
    ys = {r: np.empty(r, np.float32) for r in (HIDDEN, KV, FFN, VOCAB)}
    scratch = np.empty(FFN, np.float32)
    qbytes = sum(sum(a.nbytes for a in p) for p, _b in token_q)
    fbytes = sum(d.nbytes for d in token_f)
    routes = {f"kernel {k}": (lambda k=k: [run_q(kernel(k, b), p, xs[p[0].shape[1] * 32 // b], ys[p[0].shape[0]], scratch)
                                           for p, b in token_q]) for k in kinds}  # fmt: skip
    routes["sgemv float32"] = lambda: [gemv(d, xs[d.shape[1]], ys[d.shape[0]]) for d in token_f]
    times = {k: [] for k in routes}
    for i in range(args.rounds):
        order = list(routes.items())
        for label, fn in order if i % 2 == 0 else order[::-1]:
            t = time.process_time()
            fn()
            times[label].append(time.process_time() - t)
    print(f"\nwhole token ({len(token_f)} products; {args.rounds} rounds, CPU s, medians)")
    base = statistics.median(times["sgemv float32"])
    for label, ts in times.items():
        nbytes = fbytes if label.startswith("sgemv") else qbytes
        med = statistics.median(ts)
        print(f"{label:<14} {med * 1e3:8.1f} ms  {nbytes / med / 1e9:5.1f} GB/s  {nbytes / 1e6:7.0f} MB  "
              f"{base / med:5.2f}x sgemv  ({1 / med:.1f} tokens/s bound for the products)")  # fmt: skip

    # Small batches (a server's few requests): n rows through the kernel (one pass over the
    # packed weights per 4 rows) against OpenBLAS sgemm on the float32 matrices.
    mm = blas.gemm()
    k0 = kinds[0]
    print(f"\nrows of x per product: whole token, kernel {k0} vs sgemm float32 (CPU ms, medians)")
    for n in (1, 2, 3, 4, 8, 16):
        xn = {c: rng.standard_normal((n, c)).astype(np.float32) for c in (HIDDEN, FFN)}
        yn = {r: np.empty((n, r), np.float32) for r in (HIDDEN, KV, FFN, VOCAB)}
        sn = np.empty(n * FFN, np.float32)

        def kern(xn=xn, yn=yn, sn=sn, n=n):
            for (q, s, b), bits in token_q:
                rows, cols = q.shape[0], q.shape[1] * 32 // bits
                getattr(lib, f"qgemv{bits}_{k0}")(q.ctypes.data, s.ctypes.data, b.ctypes.data, xn[cols].ctypes.data,
                                                  yn[rows].ctypes.data, rows, cols, args.group, n, sn.ctypes.data)  # fmt: skip

        def dense(xn=xn, yn=yn):
            for d in token_f:
                mm(xn[d.shape[1]], d, yn[d.shape[0]], trans_b=True)

        ts = {"kernel": [], "sgemm": []}
        for i in range(args.rounds):
            for label, fn in (
                (("kernel", kern), ("sgemm", dense)) if i % 2 == 0 else (("sgemm", dense), ("kernel", kern))
            ):
                t = time.process_time()
                fn()
                ts[label].append(time.process_time() - t)
        kq, kf = statistics.median(ts["kernel"]), statistics.median(ts["sgemm"])
        print(f"{n:3d} rows: kernel {kq * 1e3:7.1f}  sgemm {kf * 1e3:7.1f}  kernel/sgemm time {kq / kf:5.2f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
