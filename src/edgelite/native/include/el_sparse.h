/* Sparse weights (ops_sparse.c; kernels/spmm, spmv, qspmm, qspmv): those families' signatures,
 * the layouts they read and their dispatch slots. Included by their manifests, hence by el_kernels.h.
 *
 * A weight matrix [N output channels, K] is block-CSR, blocks of B (1, 4 or 16) columns along K:
 * channel n's blocks are j in [row_ptr[n], row_ptr[n + 1]), block j starts at column cols[j]
 * (a multiple of B) and holds B weights. float32: values[j * B + b]. int8: W = max(B / 2, 1)
 * int32 words per block, each a pair of int16 weights (columns 2p, 2p + 1, low half first) from
 * pair p = pairs[j] (= cols[j] / 2) on; with B = 1 a block is one pair of columns (2p, 2p + 1) that
 * holds a non-zero. Per channel, int8 ops read ch[4 n ..]: bias, multiplier, shift, 0.
 *
 * spmm kernels (many pixels; XNNPACK's SpMM): x is a transposed tile of EL_SPMM_MT pixels, float32
 * xT[k * MT + i] or int16 pairs xT[(p * MT + i) * 2 + h] (column 2p + h, minus the zero point);
 * per channel the weight is broadcast and multiplied into all pixels at once. spmv kernels (a few
 * rows): one dot product per (row, channel) over contiguous rows x[m * x_stride + k]. Both write
 * y[i * y_stride + n] for pixels / rows i < mr and channels n < nc (pointers already at the first
 * channel: row_ptr, bias / ch and y are offset by the caller). */
#ifndef EL_SPARSE_H
#define EL_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "el_qkernels.h"

#define EL_SPMM_MT 32        /* pixels per spmm tile */
#define EL_SPMM_MIN_ROWS 8   /* fewer rows than this run on the spmv kernels */

typedef void el_spmm_fn(size_t mr, size_t nc, size_t block, const float *xt, const int32_t *row_ptr,
                        const int32_t *cols, const float *values, const float *bias, float *y, size_t y_stride,
                        float lo, float hi);
typedef void el_spmv_fn(size_t mr, size_t nc, size_t block, const float *x, size_t x_stride,
                        const int32_t *row_ptr, const int32_t *cols, const float *values, const float *bias,
                        float *y, size_t y_stride, float lo, float hi);
typedef void el_qspmm_fn(size_t mr, size_t nc, size_t block, const int16_t *xt, const int32_t *row_ptr,
                         const int32_t *pairs, const int32_t *words, const int32_t *ch, int8_t *y,
                         size_t y_stride, const el_qout *q);
typedef void el_qspmv_fn(size_t mr, size_t nc, size_t block, const int16_t *x, size_t x_stride,
                         const int32_t *row_ptr, const int32_t *pairs, const int32_t *words, const int32_t *ch,
                         int8_t *y, size_t y_stride, const el_qout *q);

typedef struct {
  el_spmm_fn *spmm;
  el_spmv_fn *spmv;
  el_qspmm_fn *qspmm;
  el_qspmv_fn *qspmv;
} el_sparse_ukernels;

extern el_sparse_ukernels el_spkernels;

static inline void set_spmm(el_spmm_fn *fn, size_t arg) { (void)arg; el_spkernels.spmm = fn; }
static inline void set_spmv(el_spmv_fn *fn, size_t arg) { (void)arg; el_spkernels.spmv = fn; }
static inline void set_qspmm(el_qspmm_fn *fn, size_t arg) { (void)arg; el_spkernels.qspmm = fn; }
static inline void set_qspmv(el_qspmv_fn *fn, size_t arg) { (void)arg; el_spkernels.qspmv = fn; }

/* int8 words per block of `block` weights. */
static inline size_t el_sparse_words(size_t block) { return block > 1 ? block / 2 : 1; }

#endif
