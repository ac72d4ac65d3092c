/* Matrix-vector products on MLX's affine-quantized weights (docs/cpu.md).
 * The bodies of the entry points qgemv{4,8}_{avx512,avx2}.
 *
 * y[m][r] = sum_j (scales[r][g] * q[r][j] + biases[r][g]) * x[m][j],  g = j / group
 *
 * W is packed as MLX stores it: uint32 words, element j of a row at bit
 * (j * bits) % 32 of word j * bits / 32, low bits first; so as bytes, 8-bit
 * element j is byte j and 4-bit element j is the low (even j) or high (odd j)
 * nibble of byte j / 2.  Scales and biases are float32, one per group.
 *
 * Each weight is rebuilt as scale * q + bias (one FMA, the same as
 * mx.dequantize) and multiplied into the rows of x: one pass over the packed
 * bytes for up to 4 rows of x.  For 4 bits the nibbles of a vector of bytes
 * come out as [even elements | odd elements]; rather than interleaving them,
 * x is permuted once per call into the same order (scratch: rows_x * cols
 * floats, given by the caller).
 *
 * Shipped as machine code (scripts/build_kernels.py): each entry point is
 * its own file (qgemv4_avx512.c, ...) that includes this header and must
 * compile to self-contained code: everything here is inlined, no constants
 * in memory (the masks are made in registers, hidden from the optimizer
 * with an empty asm), no relocations.
 *
 * Arguments of each entry point (System V x86-64):
 *   w       packed weights, rows x (cols * bits / 32) uint32
 *   scales  rows x (cols / group) float32;  biases: the same
 *   x       nx x cols float32 (row stride cols);  y: nx x rows (row stride rows)
 *   scratch nx * cols float32 (4 bits only; may be NULL for 8 bits)
 * cols must be a multiple of group; group one of 32, 64, 128; 1 <= nx.
 */
#include <immintrin.h>
#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))

INLINE int opaque(int v) {
    __asm__("" : "+r"(v));
    return v;
}

/* Permute each block of `block` floats: [x0 x2 x4 ... | x1 x3 x5 ...]. */
INLINE void permute(const float *x, float *xp, int64_t cols, int64_t block) {
    int64_t half = block / 2;
    for (int64_t b = 0; b < cols; b += block)
        for (int64_t i = 0; i < half; i++) {
            xp[b + i] = x[b + 2 * i];
            xp[b + half + i] = x[b + 2 * i + 1];
        }
}

INLINE int log2_of(int64_t v) {
    int s = 0;
    while (((int64_t)1 << s) < v) s++;
    return s;
}

/* ------------------------------------------------------------- AVX-512F -- */
#pragma GCC push_options
#pragma GCC target("avx512f")

INLINE float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

/* One chunk into accumulators a[m][K] (K a constant: the accumulators stay in registers). */
#define STEP4_512(M, C, K)                                                                    \
    do {                                                                                      \
        __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(wr + 16 * (C)))); \
        __m512 s = _mm512_set1_ps(sr[(C) >> sh]), b = _mm512_set1_ps(br[(C) >> sh]);        \
        __m512 lo = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(v, mask)), s, b);     \
        __m512 hi = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), s, b);       \
        _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) {                                 \
            const float *xm = xp + m * cols + 32 * (C);                                       \
            a[m][K] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(xm), a[m][K]);                      \
            a[m][K] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xm + 16), a[m][K]);                 \
        }                                                                                     \
    } while (0)

#define STEP8_512(M, C, K)                                                                    \
    do {                                                                                      \
        __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(wr + 16 * (C)))); \
        __m512 q = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(sr[(C) >> sh]),      \
                                   _mm512_set1_ps(br[(C) >> sh]));                            \
        _Pragma("GCC unroll 4") for (int m = 0; m < M; m++)                                   \
            a[m][K] = _mm512_fmadd_ps(q, _mm512_loadu_ps(x + m * cols + 16 * (C)), a[m][K]);  \
    } while (0)

/* 4 bits: a chunk is 16 bytes = 32 elements (even ones in the low nibbles). */
#define Q4_512(M)                                                                             \
    INLINE void q4_512_##M(const uint8_t *w, const float *sc, const float *bi, const float *xp, \
                           float *y, int64_t rows, int64_t cols, int64_t group) {             \
        const __m512i mask = _mm512_set1_epi32(opaque(15));                                   \
        const int64_t bpr = cols / 2, ng = cols / group, nch = cols / 32;                     \
        const int sh = log2_of(group / 32);                                                   \
        for (int64_t r = 0; r < rows; r++) {                                                  \
            const uint8_t *wr = w + r * bpr;                                                  \
            const float *sr = sc + r * ng, *br = bi + r * ng;                                 \
            __m512 a[M][2];                                                                   \
            _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) a[m][0] = a[m][1] = _mm512_setzero_ps();              \
            int64_t c = 0;                                                                    \
            for (; c + 1 < nch; c += 2) {                                                     \
                STEP4_512(M, c, 0);                                                           \
                STEP4_512(M, c + 1, 1);                                                       \
            }                                                                                 \
            if (c < nch) STEP4_512(M, c, 0);                                                  \
            _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) y[m * rows + r] = hsum512(_mm512_add_ps(a[m][0], a[m][1])); \
        }                                                                                     \
    }

/* 8 bits: a chunk is 16 bytes = 16 elements, in order. */
#define Q8_512(M)                                                                             \
    INLINE void q8_512_##M(const uint8_t *w, const float *sc, const float *bi, const float *x, \
                           float *y, int64_t rows, int64_t cols, int64_t group) {             \
        const int64_t ng = cols / group, nch = cols / 16;                                     \
        const int sh = log2_of(group / 16);                                                   \
        for (int64_t r = 0; r < rows; r++) {                                                  \
            const uint8_t *wr = w + r * cols;                                                 \
            const float *sr = sc + r * ng, *br = bi + r * ng;                                 \
            __m512 a[M][2];                                                                   \
            _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) a[m][0] = a[m][1] = _mm512_setzero_ps();              \
            int64_t c = 0;                                                                    \
            for (; c + 1 < nch; c += 2) {                                                     \
                STEP8_512(M, c, 0);                                                           \
                STEP8_512(M, c + 1, 1);                                                       \
            }                                                                                 \
            if (c < nch) STEP8_512(M, c, 0);                                                  \
            _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) y[m * rows + r] = hsum512(_mm512_add_ps(a[m][0], a[m][1])); \
        }                                                                                     \
    }

Q4_512(1)
Q4_512(2)
Q4_512(3)
Q4_512(4)
Q8_512(1)
Q8_512(2)
Q8_512(3)
Q8_512(4)

INLINE void qgemv4_avx512_body(const uint32_t *w, const float *sc, const float *bi, const float *x, float *y,
                   int64_t rows, int64_t cols, int64_t group, int64_t nx, float *scratch) {
    for (int64_t m = 0; m < nx; m++) permute(x + m * cols, scratch + m * cols, cols, 32);
    for (int64_t m0 = 0; m0 < nx; m0 += 4) {
        int64_t k = nx - m0 < 4 ? nx - m0 : 4;
        const float *xp = scratch + m0 * cols;
        float *ym = y + m0 * rows;
        const uint8_t *wb = (const uint8_t *)w;
        if (k == 1) q4_512_1(wb, sc, bi, xp, ym, rows, cols, group);
        else if (k == 2) q4_512_2(wb, sc, bi, xp, ym, rows, cols, group);
        else if (k == 3) q4_512_3(wb, sc, bi, xp, ym, rows, cols, group);
        else q4_512_4(wb, sc, bi, xp, ym, rows, cols, group);
    }
}

INLINE void qgemv8_avx512_body(const uint32_t *w, const float *sc, const float *bi, const float *x, float *y,
                   int64_t rows, int64_t cols, int64_t group, int64_t nx, float *scratch) {
    (void)scratch;
    for (int64_t m0 = 0; m0 < nx; m0 += 4) {
        int64_t k = nx - m0 < 4 ? nx - m0 : 4;
        const float *xm = x + m0 * cols;
        float *ym = y + m0 * rows;
        const uint8_t *wb = (const uint8_t *)w;
        if (k == 1) q8_512_1(wb, sc, bi, xm, ym, rows, cols, group);
        else if (k == 2) q8_512_2(wb, sc, bi, xm, ym, rows, cols, group);
        else if (k == 3) q8_512_3(wb, sc, bi, xm, ym, rows, cols, group);
        else q8_512_4(wb, sc, bi, xm, ym, rows, cols, group);
    }
}
#pragma GCC pop_options

/* ---------------------------------------------------------- AVX2 + FMA -- */
#pragma GCC push_options
#pragma GCC target("avx2,fma")

INLINE float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#define STEP4_256(M, C, K)                                                                    \
    do {                                                                                      \
        __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(wr + 8 * (C))));  \
        __m256 s = _mm256_broadcast_ss(sr + ((C) >> sh)), b = _mm256_broadcast_ss(br + ((C) >> sh)); \
        __m256 lo = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v, mask)), s, b);     \
        __m256 hi = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4)), s, b);       \
        _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) {                                 \
            const float *xm = xp + m * cols + 16 * (C);                                       \
            a[m][K] = _mm256_fmadd_ps(lo, _mm256_loadu_ps(xm), a[m][K]);                      \
            a[m][K] = _mm256_fmadd_ps(hi, _mm256_loadu_ps(xm + 8), a[m][K]);                  \
        }                                                                                     \
    } while (0)

#define STEP8_256(M, C, K)                                                                    \
    do {                                                                                      \
        __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(wr + 8 * (C))));  \
        __m256 q = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_broadcast_ss(sr + ((C) >> sh)), \
                                   _mm256_broadcast_ss(br + ((C) >> sh)));                    \
        _Pragma("GCC unroll 4") for (int m = 0; m < M; m++)                                   \
            a[m][K] = _mm256_fmadd_ps(q, _mm256_loadu_ps(x + m * cols + 8 * (C)), a[m][K]);   \
    } while (0)

/* 4 bits: a chunk is 8 bytes = 16 elements. */
#define Q4_256(M)                                                                             \
    INLINE void q4_256_##M(const uint8_t *w, const float *sc, const float *bi, const float *xp, \
                           float *y, int64_t rows, int64_t cols, int64_t group) {             \
        const __m256i mask = _mm256_set1_epi32(opaque(15));                                   \
        const int64_t bpr = cols / 2, ng = cols / group, nch = cols / 16;                     \
        const int sh = log2_of(group / 16);                                                   \
        for (int64_t r = 0; r < rows; r++) {                                                  \
            const uint8_t *wr = w + r * bpr;                                                  \
            const float *sr = sc + r * ng, *br = bi + r * ng;                                 \
            __m256 a[M][2];                                                                   \
            _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) a[m][0] = a[m][1] = _mm256_setzero_ps();              \
            int64_t c = 0;                                                                    \
            for (; c + 1 < nch; c += 2) {                                                     \
                STEP4_256(M, c, 0);                                                           \
                STEP4_256(M, c + 1, 1);                                                       \
            }                                                                                 \
            if (c < nch) STEP4_256(M, c, 0);                                                  \
            _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) y[m * rows + r] = hsum256(_mm256_add_ps(a[m][0], a[m][1])); \
        }                                                                                     \
    }

/* 8 bits: a chunk is 8 bytes = 8 elements. */
#define Q8_256(M)                                                                             \
    INLINE void q8_256_##M(const uint8_t *w, const float *sc, const float *bi, const float *x, \
                           float *y, int64_t rows, int64_t cols, int64_t group) {             \
        const int64_t ng = cols / group, nch = cols / 8;                                      \
        const int sh = log2_of(group / 8);                                                    \
        for (int64_t r = 0; r < rows; r++) {                                                  \
            const uint8_t *wr = w + r * cols;                                                 \
            const float *sr = sc + r * ng, *br = bi + r * ng;                                 \
            __m256 a[M][2];                                                                   \
            _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) a[m][0] = a[m][1] = _mm256_setzero_ps();              \
            int64_t c = 0;                                                                    \
            for (; c + 1 < nch; c += 2) {                                                     \
                STEP8_256(M, c, 0);                                                           \
                STEP8_256(M, c + 1, 1);                                                       \
            }                                                                                 \
            if (c < nch) STEP8_256(M, c, 0);                                                  \
            _Pragma("GCC unroll 4") for (int m = 0; m < M; m++) y[m * rows + r] = hsum256(_mm256_add_ps(a[m][0], a[m][1])); \
        }                                                                                     \
    }

Q4_256(1)
Q4_256(2)
Q4_256(3)
Q4_256(4)
Q8_256(1)
Q8_256(2)
Q8_256(3)
Q8_256(4)

INLINE void qgemv4_avx2_body(const uint32_t *w, const float *sc, const float *bi, const float *x, float *y,
                 int64_t rows, int64_t cols, int64_t group, int64_t nx, float *scratch) {
    for (int64_t m = 0; m < nx; m++) permute(x + m * cols, scratch + m * cols, cols, 16);
    for (int64_t m0 = 0; m0 < nx; m0 += 4) {
        int64_t k = nx - m0 < 4 ? nx - m0 : 4;
        const float *xp = scratch + m0 * cols;
        float *ym = y + m0 * rows;
        const uint8_t *wb = (const uint8_t *)w;
        if (k == 1) q4_256_1(wb, sc, bi, xp, ym, rows, cols, group);
        else if (k == 2) q4_256_2(wb, sc, bi, xp, ym, rows, cols, group);
        else if (k == 3) q4_256_3(wb, sc, bi, xp, ym, rows, cols, group);
        else q4_256_4(wb, sc, bi, xp, ym, rows, cols, group);
    }
}

INLINE void qgemv8_avx2_body(const uint32_t *w, const float *sc, const float *bi, const float *x, float *y,
                 int64_t rows, int64_t cols, int64_t group, int64_t nx, float *scratch) {
    (void)scratch;
    for (int64_t m0 = 0; m0 < nx; m0 += 4) {
        int64_t k = nx - m0 < 4 ? nx - m0 : 4;
        const float *xm = x + m0 * cols;
        float *ym = y + m0 * rows;
        const uint8_t *wb = (const uint8_t *)w;
        if (k == 1) q8_256_1(wb, sc, bi, xm, ym, rows, cols, group);
        else if (k == 2) q8_256_2(wb, sc, bi, xm, ym, rows, cols, group);
        else if (k == 3) q8_256_3(wb, sc, bi, xm, ym, rows, cols, group);
        else q8_256_4(wb, sc, bi, xm, ym, rows, cols, group);
    }
}
#pragma GCC pop_options
