/* Entry point: 8-bit weights, AVX-512F (the body and its documentation: qgemv.h). */
#include "qgemv.h"

void qgemv8_avx512(const uint32_t *w, const float *sc, const float *bi, const float *x, float *y,
        int64_t rows, int64_t cols, int64_t group, int64_t nx, float *scratch) {
    qgemv8_avx512_body(w, sc, bi, x, y, rows, cols, group, nx, scratch);
}
