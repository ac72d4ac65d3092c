/* Matrix products of many rows (a prompt) on MLX's affine-quantized weights (docs/cpu.md).
 * The bodies of the entry points qgemm{4,8}_avx512.
 *
 * y[m][r] = sum_j (scales[r][g] * q[r][j] + biases[r][g]) * x[m][j],  g = j / group
 *
 * The weights are packed as qgemv.h describes.  qgemv reads them once per 4
 * rows of x and is bound by its loads; here there are tens to thousands of
 * rows, so the work is the multiply-adds and the code is blocked like a
 * float32 matrix product, with one difference: the weights' panel is made
 * by dequantizing the packed bytes (scale * q + bias, one FMA, as qgemv and
 * mx.dequantize) instead of copying a float32 matrix, so a pass reads an
 * eighth of the bytes (4 bits) and no float32 copy of the weights is needed.
 *
 * Blocking (AVX-512F, 32 vector registers):
 *   - x: blocks of at most MC rows (as even as whole vectors allow) and KC
 *     columns at a time, transposed into `scratch`
 *     as sub-blocks of MB = 48 rows: xt[k][48] (the rows are the vector
 *     lanes, three vectors a column);
 *   - weights: NR = 8 rows over the same KC columns, dequantized into
 *     `scratch` after the x block (8 x KC floats, in L1/L2);
 *   - the inner loop: 8 weight rows x 48 x rows = 24 accumulators; each step
 *     loads 3 vectors of x and broadcasts 8 weights (3 + 8 loads for 24 FMAs).
 * The 4-bit nibbles come out as [even | odd] elements of each 32 (qgemv.h),
 * so the columns of the x block are taken in that order too: the products
 * are the same, summed in another order.  A last sub-block of fewer rows
 * runs with 1 or 2 vectors; rows of the weights past `rows` are zeros and
 * their results are not stored.
 *
 * Arguments of each entry point (System V x86-64):
 *   w       packed weights, rows x (cols * bits / 32) uint32
 *   scales  rows x (cols / group) float32;  biases: the same
 *   x       nx x cols float32 (row stride cols)
 *   y       nx x ldy float32: row m's results go to y[m * ldy + 0 .. rows)
 *   scratch QGEMM_SCRATCH floats (MC * KC + NR * KC)
 * cols must be a multiple of group; group one of 32, 64, 128; 1 <= nx.
 * A caller splitting the rows over threads passes each its part of w,
 * scales, biases and y (same ldy) and its own scratch.
 */
#include <immintrin.h>
#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))

#define NR 8
#define MB 48
#ifndef MC
#define MC 192
#endif
#ifndef KC
#define KC 1024
#endif
#define QGEMM_SCRATCH (MC * KC + NR * KC)

INLINE int opaque(int v) {
    __asm__("" : "+r"(v));
    return v;
}

INLINE int log2_of(int64_t v) {
    int s = 0;
    while (((int64_t)1 << s) < v) s++;
    return s;
}

/* Where column j of a block goes among the dequantized weights' columns: for 4 bits each
   32 columns come as [0 2 4 ... 30 | 1 3 ... 31] (qgemv.h), for 8 bits as they are. */
INLINE int64_t column_slot(int64_t j, int bits) {
    if (bits == 8) return j;
    int64_t i = j & 31;
    return (j & ~(int64_t)31) + (i & 1 ? 16 + i / 2 : i / 2);
}

#pragma GCC push_options
#pragma GCC target("avx512f")

/* The vectors (of 16 x rows) of the sub-block that starts where `left` vectors remain: 3, but
   never a lone last one when it can be avoided (4 left: 2 + 2), since a one-vector tile has
   a third of the independent sums and runs at about half the speed. */
INLINE int sub_vectors(int64_t left) {
    return left == 4 ? 2 : left >= 3 ? 3 : (int)left;
}

/* The 16 x 16 block in r[] transposed: c[t] = column t across the 16 rows. */
INLINE void transpose16(const __m512 r[16], __m512 c[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4i + q], 128-bit lane L: rows 4i .. 4i+3 of column 4L + q */
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c2 = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c2));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c2));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int q = 0; q < 4; q++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44), v1 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
        __m512 w0 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44);
        __m512 w1 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
        c[q] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        c[4 + q] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
        c[8 + q] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        c[12 + q] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    }
}

/* x rows m0 .. m0+count, columns k0 .. k0+kc into xt: the sub-block that starts at row
   16 * (vectors before it) keeps column kk, lane j at xt[(s * kc + kk) * MB + j] (s its
   number); lanes past `count` are zero.  16 x 16 blocks at a time, transposed in registers. */
INLINE void pack_x(const float *x, int64_t cols, int64_t m0, int64_t count, int64_t k0, int64_t kc,
                   float *xt, int bits) {
    const int64_t vectors = (count + 15) / 16;
    int64_t s = 0;
    for (int64_t vec = 0; vec < vectors; s++) {
        int v = sub_vectors(vectors - vec);
        float *blk = xt + s * kc * MB;
        for (int g = 0; g < v; g++, vec++) {
            const int64_t first = vec * 16;
            for (int64_t c0 = 0; c0 < kc; c0 += 16) {
                __m512 r[16], c[16];
                for (int t = 0; t < 16; t++)
                    r[t] = first + t < count ? _mm512_loadu_ps(x + (m0 + first + t) * cols + k0 + c0)
                                             : _mm512_setzero_ps();
                transpose16(r, c);
                for (int t = 0; t < 16; t++)
                    _mm512_storeu_ps(blk + column_slot(c0 + t, bits) * MB + 16 * g, c[t]);
            }
        }
    }
}

/* Weight rows r0 .. r0+NR (rows past `rows`: zeros), columns k0 .. k0+kc, as floats in wb[i * kc + kk]. */
INLINE void dequantize(const uint8_t *w, const float *sc, const float *bi, int64_t rows, int64_t cols,
                       int64_t group, int64_t r0, int64_t k0, int64_t kc, float *wb, int bits) {
    const __m512i mask = _mm512_set1_epi32(opaque(15));
    const int64_t ng = cols / group, per = bits == 4 ? 32 : 16;  /* columns a 16-byte chunk holds */
    const int sh = log2_of(group / per);
    for (int64_t i = 0; i < NR; i++) {
        float *out = wb + i * kc;
        if (r0 + i >= rows) {
            for (int64_t kk = 0; kk < kc; kk += 16) _mm512_storeu_ps(out + kk, _mm512_setzero_ps());
            continue;
        }
        const uint8_t *wr = w + (r0 + i) * (cols * bits / 8) + k0 * bits / 8;
        const float *sr = sc + (r0 + i) * ng + k0 / group, *br = bi + (r0 + i) * ng + k0 / group;
        for (int64_t c = 0; c < kc / per; c++) {
            __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(wr + 16 * c)));
            __m512 s = _mm512_set1_ps(sr[c >> sh]), b = _mm512_set1_ps(br[c >> sh]);
            if (bits == 4) {
                _mm512_storeu_ps(out + 32 * c, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(v, mask)), s, b));
                _mm512_storeu_ps(out + 32 * c + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), s, b));
            } else {
                _mm512_storeu_ps(out + 16 * c, _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), s, b));
            }
        }
    }
}

/* The 8 x (16 * V) tile of one sub-block into tile[i][16 v + l] (row r0+i, x row 16v+l).
   The 24 accumulators are named variables: with an array GCC spilled one x vector. */
#define ACC(i) __m512 a##i##0 = _mm512_setzero_ps(), a##i##1 = a##i##0, a##i##2 = a##i##0
#define FMA1(i) { __m512 b = _mm512_set1_ps(w##i[kk]); a##i##0 = _mm512_fmadd_ps(b, x0, a##i##0); }
#define FMA2(i) { __m512 b = _mm512_set1_ps(w##i[kk]); a##i##0 = _mm512_fmadd_ps(b, x0, a##i##0); \
                  a##i##1 = _mm512_fmadd_ps(b, x1, a##i##1); }
#define FMA3(i) { __m512 b = _mm512_set1_ps(w##i[kk]); a##i##0 = _mm512_fmadd_ps(b, x0, a##i##0); \
                  a##i##1 = _mm512_fmadd_ps(b, x1, a##i##1); a##i##2 = _mm512_fmadd_ps(b, x2, a##i##2); }
#define PUT(i, V) { _mm512_store_ps(tile + i * MB, a##i##0); \
                    if (V > 1) _mm512_store_ps(tile + i * MB + 16, a##i##1); \
                    if (V > 2) _mm512_store_ps(tile + i * MB + 32, a##i##2); }
#define MICRO(V)                                                                                   \
    static __attribute__((noinline)) void micro_##V(const float *wb, int64_t kc, const float *xt, float *tile) { \
        ACC(0); ACC(1); ACC(2); ACC(3); ACC(4); ACC(5); ACC(6); ACC(7);                           \
        const float *w0 = wb, *w1 = wb + kc, *w2 = wb + 2 * kc, *w3 = wb + 3 * kc;                 \
        const float *w4 = wb + 4 * kc, *w5 = wb + 5 * kc, *w6 = wb + 6 * kc, *w7 = wb + 7 * kc;    \
        for (int64_t kk = 0; kk < kc; kk++) {                                                      \
            const float *xk = xt + kk * MB;                                                        \
            __m512 x0 = _mm512_loadu_ps(xk), x1 = x0, x2 = x0;                                    \
            if (V > 1) x1 = _mm512_loadu_ps(xk + 16);                                              \
            if (V > 2) x2 = _mm512_loadu_ps(xk + 32);                                              \
            FMA##V(0) FMA##V(1) FMA##V(2) FMA##V(3) FMA##V(4) FMA##V(5) FMA##V(6) FMA##V(7)        \
            (void)x1; (void)x2;                                                                    \
        }                                                                                          \
        PUT(0, V) PUT(1, V) PUT(2, V) PUT(3, V) PUT(4, V) PUT(5, V) PUT(6, V) PUT(7, V)            \
    }

MICRO(1)
MICRO(2)
MICRO(3)

/* A tile's results into y (rows of x from m, weight rows from r0): stored on the first
   column block, added on the others.  Eight x rows at a time: an 8 x 8 transpose in
   registers turns the tile's weight rows into runs of y. */
INLINE void store_tile(const float *tile, int64_t m, int64_t count, int64_t r0, int64_t rows, float *y,
                       int64_t ldy, int first) {
    int64_t nr = rows - r0 < NR ? rows - r0 : NR, j = 0;
    if (nr == NR)
        for (; j + 8 <= count; j += 8) {
            __m256 t[8], u[8];
            for (int i = 0; i < 8; i += 2) {
                __m256 a = _mm256_loadu_ps(tile + i * MB + j), b = _mm256_loadu_ps(tile + (i + 1) * MB + j);
                t[i] = _mm256_unpacklo_ps(a, b);
                t[i + 1] = _mm256_unpackhi_ps(a, b);
            }
            for (int h = 0; h < 8; h += 4) {
                u[h] = _mm256_shuffle_ps(t[h], t[h + 2], 0x44);
                u[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], 0xEE);
                u[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0x44);
                u[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0xEE);
            }
            for (int q = 0; q < 4; q++) {
                __m256 lo = _mm256_permute2f128_ps(u[q], u[4 + q], 0x20);  /* x row j + q */
                __m256 hi = _mm256_permute2f128_ps(u[q], u[4 + q], 0x31);  /* x row j + 4 + q */
                float *a = y + (m + j + q) * ldy + r0, *b = y + (m + j + 4 + q) * ldy + r0;
                if (!first) {
                    lo = _mm256_add_ps(lo, _mm256_loadu_ps(a));
                    hi = _mm256_add_ps(hi, _mm256_loadu_ps(b));
                }
                _mm256_storeu_ps(a, lo);
                _mm256_storeu_ps(b, hi);
            }
        }
    for (; j < count; j++) {
        float *out = y + (m + j) * ldy + r0;
        if (first)
            for (int64_t i = 0; i < nr; i++) out[i] = tile[i * MB + j];
        else
            for (int64_t i = 0; i < nr; i++) out[i] += tile[i * MB + j];
    }
}

INLINE void qgemm_avx512_body(const uint32_t *w, const float *sc, const float *bi, const float *x, float *y,
                              int64_t rows, int64_t cols, int64_t group, int64_t nx, int64_t ldy,
                              float *scratch, int bits) {
    const uint8_t *wb = (const uint8_t *)w;
    float *xt = scratch, *dq = scratch + MC * KC;
    float tile[NR * MB] __attribute__((aligned(64)));
    /* Blocks of x rows as even as whole vectors allow (199 rows: 112 + 87, not 192 + 7: each
       block dequantizes the weights again, and a 7-row block runs the narrow loop over all). */
    const int64_t blocks = (nx + MC - 1) / MC;
    const int64_t step = ((nx + blocks - 1) / blocks + 15) / 16 * 16;
    for (int64_t m0 = 0; m0 < nx; m0 += step) {
        int64_t count = nx - m0 < step ? nx - m0 : step;
        for (int64_t k0 = 0; k0 < cols; k0 += KC) {
            int64_t kc = cols - k0 < KC ? cols - k0 : KC;
            pack_x(x, cols, m0, count, k0, kc, xt, bits);
            for (int64_t r0 = 0; r0 < rows; r0 += NR) {
                dequantize(wb, sc, bi, rows, cols, group, r0, k0, kc, dq, bits);
                const int64_t vectors = (count + 15) / 16;
                int64_t s = 0;
                for (int64_t vec = 0; vec < vectors; s++) {
                    int v = sub_vectors(vectors - vec);
                    int64_t n = count - 16 * vec < 16 * v ? count - 16 * vec : 16 * v;
                    const float *blk = xt + s * kc * MB;
                    if (v == 3) micro_3(dq, kc, blk, tile);
                    else if (v == 2) micro_2(dq, kc, blk, tile);
                    else micro_1(dq, kc, blk, tile);
                    store_tile(tile, m0 + 16 * vec, n, r0, rows, y, ldy, k0 == 0);
                    vec += v;
                }
            }
        }
    }
}
#pragma GCC pop_options
