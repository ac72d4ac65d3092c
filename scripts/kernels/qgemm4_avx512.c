/* Entry point: 4-bit weights, AVX-512F (the body and its documentation: qgemm.h). */
#include "qgemm.h"

void qgemm4_avx512(const uint32_t *w, const float *sc, const float *bi, const float *x, float *y,
        int64_t rows, int64_t cols, int64_t group, int64_t nx, int64_t ldy, float *scratch) {
    qgemm_avx512_body(w, sc, bi, x, y, rows, cols, group, nx, ldy, scratch, 4);
}
