/* half_matvec: y = W x for a row-major float16 matrix W and float32 x, y.
 *
 * For model weights stored as float16 (Whisper's are): the products are those
 * of the float32 path exactly (every float16 value is a float32 value), the
 * matrix is read at half the bytes.  Four rows share each load of x; cols must
 * be a multiple of 8.  x86-64 with AVX2, FMA and F16C (2013 on).
 *
 * Built by scripts/build_kernels.py into mlxk_common/engine/cpu/machine_code.py:
 * a leaf function, no calls, no data outside its own bytes.
 */
#include <immintrin.h>
#include <stdint.h>

#define AHEAD 16 /* rows */

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256 load8(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

void half_matvec(const uint16_t *w, const float *x, float *y, long rows, long cols)
{
    long i = 0;
    for (; i + 4 <= rows; i += 4) {
        const uint16_t *w0 = w + i * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (long j = 0; j < cols; j += 8) {
            if ((j & 31) == 0) {
                /* The rows 16 ahead, a cache line each per 32 columns: four row
                   streams alone left most of the memory bandwidth unused (a
                   40 MB matrix out of cache: 6.2 ms without, 3.9 ms with). A
                   prefetch past the matrix's end is harmless: it never faults. */
                _mm_prefetch((const char *)(w0 + j + AHEAD * cols), _MM_HINT_T0);
                _mm_prefetch((const char *)(w1 + j + AHEAD * cols), _MM_HINT_T0);
                _mm_prefetch((const char *)(w2 + j + AHEAD * cols), _MM_HINT_T0);
                _mm_prefetch((const char *)(w3 + j + AHEAD * cols), _MM_HINT_T0);
            }
            __m256 xv = _mm256_loadu_ps(x + j);
            a0 = _mm256_fmadd_ps(load8(w0 + j), xv, a0);
            a1 = _mm256_fmadd_ps(load8(w1 + j), xv, a1);
            a2 = _mm256_fmadd_ps(load8(w2 + j), xv, a2);
            a3 = _mm256_fmadd_ps(load8(w3 + j), xv, a3);
        }
        y[i] = hsum(a0);
        y[i + 1] = hsum(a1);
        y[i + 2] = hsum(a2);
        y[i + 3] = hsum(a3);
    }
    for (; i < rows; i++) {
        const uint16_t *w0 = w + i * cols;
        __m256 a0 = _mm256_setzero_ps();
        for (long j = 0; j < cols; j += 8)
            a0 = _mm256_fmadd_ps(load8(w0 + j), _mm256_loadu_ps(x + j), a0);
        y[i] = hsum(a0);
    }
}
