/* SPMM (float32) and QSPMM (int8): FULLY_CONNECTED, 1x1 CONV_2D and BATCH_MATMUL by sparse
 * (block-CSR, include/el_sparse.h) constant weights: validation of the sparse structure and tiling.
 *
 * SPMM params: [mode, K, N, block, blocks, lo, hi, stride h, stride w]; inputs: x, values (float32),
 *   index (int32: row_ptr[N + 1] then cols[blocks]), bias (float32 [N]), scratch.
 * QSPMM params: [mode, K, N, block, blocks, input zero point, output zero point, lo, hi, stride h,
 *   stride w]; inputs: x (int8), words (int32), index (int32: row_ptr[N + 1] then pairs[blocks]),
 *   channel params (int32 [N x 4]: bias, multiplier, shift, 0), scratch.
 * mode 0: the input is rows of K values (FULLY_CONNECTED, BATCH_MATMUL), as many as the output has
 *   rows of N; mode 1: NHWC input and output, output pixel (y, x) reads input pixel
 *   (y * stride h, x * stride w) (a 1x1 convolution, which never reads padding).
 * Rows run in tiles of EL_SPMM_MT pixels, transposed into the thread's scratch slice for the spmm
 * kernels; fewer than EL_SPMM_MIN_ROWS rows run on the spmv kernels. With threads, the channels
 * are split too when there are few tiles; every output is computed the same way whatever the split. */
#include "include/el_engine.h"
#include "include/el_kernels.h"
#include "include/el_ops_common.h"
#include "include/el_quant.h"

el_sparse_ukernels el_spkernels;

static size_t f32_slice_bytes(size_t K) { return (K * EL_SPMM_MT * 4 + 63) / 64 * 64; }
static size_t q_slice_bytes(size_t K) { return ((K + (K & 1)) * EL_SPMM_MT * 2 + 63) / 64 * 64; }

/* The block-CSR index: row pointers from 0, non-decreasing, ending at `blocks`; every block inside
 * the row of K columns (pair units for int8), aligned to its size. */
static int check_index(const el_node *n, const el_tensor *index, int64_t K, int64_t N, int64_t block,
                       int64_t blocks, int pairs, char *err, size_t len) {
  if (index->dtype != EL_I32 || index->count != N + 1 + blocks)
    return el_fail(err, len, n, "sparse index must be int32 [N + 1 + blocks]");
  const int32_t *row_ptr = (const int32_t *)(const void *)index->data, *cols = row_ptr + N + 1;
  if (row_ptr[0] != 0 || row_ptr[N] != blocks) return el_fail(err, len, n, "row pointers must run from 0 to %lld", (long long)blocks);
  for (int64_t r = 0; r < N; r++)
    if (row_ptr[r + 1] < row_ptr[r]) return el_fail(err, len, n, "row pointers decrease at channel %lld", (long long)r);
  const int64_t span = pairs ? (int64_t)el_sparse_words((size_t)block) : block;
  const int64_t limit = pairs ? (K + 1) / 2 : K, align = pairs ? span : block;
  for (int64_t j = 0; j < blocks; j++)
    if (cols[j] < 0 || cols[j] + span > limit || (block > 1 && cols[j] % align))
      return el_fail(err, len, n, "block %lld at column %d is outside the %lld columns or misaligned", (long long)j,
                     pairs ? 2 * cols[j] : cols[j], (long long)K);
  return 0;
}

/* Shapes common to both ops: K, N, block, the rows of x and y, strides. */
static int check_shapes(const el_program *p, const el_node *n, const int64_t *s, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n), *scratch = el_in(p, n, 4);
  const int64_t mode = n->p[0], K = n->p[1], N = n->p[2], block = n->p[3], blocks = n->p[4];
  if (!EL_RANGE(K, 1, 1 << 24) || !EL_RANGE(N, 1, 1 << 24) || !EL_RANGE(blocks, 0, (int64_t)1 << 31))
    return el_fail(err, len, n, "bad K, N or block count");
  if (block != 1 && block != 4 && block != 16) return el_fail(err, len, n, "block size %lld is not 1, 4 or 16", (long long)block);
  if (K % block) return el_fail(err, len, n, "block size %lld does not divide K %lld", (long long)block, (long long)K);
  if (!scratch->writable) return el_fail(err, len, n, "scratch must be writable");
  if (mode == 0) {
    if (y->count % N || y->count / N > x->count / K) return el_fail(err, len, n, "input or output size does not fit K x N");
    return 0;
  }
  if (mode != 1) return el_fail(err, len, n, "bad mode");
  if (el_check_nhwc_pair(n, x, y, err, len)) return -1;
  if (!EL_RANGE(s[0], 1, 1 << 16) || !EL_RANGE(s[1], 1, 1 << 16)) return el_fail(err, len, n, "bad strides");
  if (x->dims[3] != K || y->dims[3] != N || (y->dims[1] - 1) * s[0] >= x->dims[1] || (y->dims[2] - 1) * s[1] >= x->dims[2])
    return el_fail(err, len, n, "output pixels read outside the input, or channels differ from K / N");
  return 0;
}

int el_validate_spmm(const el_program *p, const el_node *n, char *err, size_t len) {
  if (check_shapes(p, n, n->p + 7, err, len)) return -1;
  const int64_t K = n->p[1], N = n->p[2], block = n->p[3], blocks = n->p[4];
  if (el_in(p, n, 1)->count != blocks * block || el_in(p, n, 3)->count != N)
    return el_fail(err, len, n, "values must hold blocks x block floats and bias N");
  if (el_in(p, n, 4)->count * 4 < (int64_t)(f32_slice_bytes((size_t)K) * p->n_threads))
    return el_fail(err, len, n, "scratch too small");
  return check_index(n, el_in(p, n, 2), K, N, block, blocks, 0, err, len);
}

int el_validate_qspmm(const el_program *p, const el_node *n, char *err, size_t len) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n), *words = el_in(p, n, 1), *ch = el_in(p, n, 3);
  if (x->dtype != EL_I8 || y->dtype != EL_I8 || words->dtype != EL_I32 || ch->dtype != EL_I32)
    return el_fail(err, len, n, "needs int8 input and output, int32 words and channel params");
  if (check_shapes(p, n, n->p + 9, err, len)) return -1;
  const int64_t K = n->p[1], N = n->p[2], block = n->p[3], blocks = n->p[4];
  if (words->count != blocks * (int64_t)el_sparse_words((size_t)block) || ch->count != 4 * N)
    return el_fail(err, len, n, "words must hold blocks x max(block / 2, 1) and channel params 4 N");
  if (!EL_RANGE(n->p[5], -128, 127) || !EL_RANGE(n->p[6], INT32_MIN, INT32_MAX) || !EL_RANGE(n->p[7], -128, 127) ||
      !EL_RANGE(n->p[8], n->p[7], 127))
    return el_fail(err, len, n, "bad zero points or clamp");
  const int32_t *params = (const int32_t *)(const void *)ch->data;
  for (int64_t c = 0; c < N; c++)
    if (!EL_RANGE(params[4 * c + 2], -31, 31)) return el_fail(err, len, n, "channel %lld: shift out of range", (long long)c);
  if (el_dtype_size(el_in(p, n, 4)->dtype) * el_in(p, n, 4)->count < (int64_t)(q_slice_bytes((size_t)K) * p->n_threads))
    return el_fail(err, len, n, "scratch too small");
  return check_index(n, el_in(p, n, 2), K, N, block, blocks, 1, err, len);
}

typedef struct {
  const el_program *p;
  const el_node *n;
  const char *x;
  char *y, *scratch;
  const int32_t *row_ptr, *cols;
  size_t K, N, block, rows, row_tiles, splits, chunk, slice, elem;
  size_t out_h, out_w, in_h, in_w, sh, sw;
  int mode;
} sparse_task;

/* Byte offset of input row r: contiguous rows, or the strided pixel of a 1x1 convolution. */
static inline size_t row_offset(const sparse_task *t, size_t r) {
  if (t->mode == 0) return r * t->K * t->elem;
  const size_t per_image = t->out_h * t->out_w, b = r / per_image, oy = r % per_image / t->out_w, ox = r % t->out_w;
  return ((b * t->in_h + oy * t->sh) * t->in_w + ox * t->sw) * t->K * t->elem;
}

static void init_task(sparse_task *t, const el_program *p, const el_node *n, const int64_t *strides, size_t elem,
                      size_t slice) {
  const el_tensor *x = el_in(p, n, 0), *y = el_out(p, n);
  t->p = p;
  t->n = n;
  t->x = (const char *)x->data;
  t->y = (char *)y->data;
  t->scratch = (char *)el_in(p, n, 4)->data;
  t->K = (size_t)n->p[1];
  t->N = (size_t)n->p[2];
  t->block = (size_t)n->p[3];
  t->row_ptr = (const int32_t *)(const void *)el_in(p, n, 2)->data;
  t->cols = t->row_ptr + t->N + 1;
  t->mode = (int)n->p[0];
  t->elem = elem;
  t->slice = slice;
  t->rows = (size_t)y->count / t->N;
  if (t->mode == 1) {
    t->out_h = (size_t)y->dims[1], t->out_w = (size_t)y->dims[2];
    t->in_h = (size_t)x->dims[1], t->in_w = (size_t)x->dims[2];
    t->sh = (size_t)strides[0], t->sw = (size_t)strides[1];
  }
  const size_t mt = t->rows >= EL_SPMM_MIN_ROWS ? EL_SPMM_MT : t->rows;
  t->row_tiles = (t->rows + mt - 1) / mt;
  const size_t target = p->n_threads > 1 ? 4 * p->n_threads : 1, groups = (t->N + 7) / 8;
  t->splits = t->row_tiles < target ? (target + t->row_tiles - 1) / t->row_tiles : 1;
  if (t->splits > groups) t->splits = groups;
  t->chunk = (groups + t->splits - 1) / t->splits * 8;
}

/* (first row, rows, first channel, channels) of a tile; rows 0 when the tile is empty. */
static inline void tile_extent(const sparse_task *t, size_t tile, size_t *r0, size_t *mr, size_t *n0, size_t *nc) {
  const size_t mt = t->rows >= EL_SPMM_MIN_ROWS ? EL_SPMM_MT : t->rows;
  *r0 = tile / t->splits * mt;
  *mr = t->rows - *r0 < mt ? t->rows - *r0 : mt;
  *n0 = tile % t->splits * t->chunk;
  *nc = *n0 >= t->N ? 0 : t->N - *n0 < t->chunk ? t->N - *n0 : t->chunk;
}

static void spmm_tile(const void *ctx, size_t tile, size_t thread) {
  const sparse_task *t = ctx;
  const el_node *n = t->n;
  size_t r0, mr, n0, nc;
  tile_extent(t, tile, &r0, &mr, &n0, &nc);
  if (nc == 0) return;
  const float *values = el_in(t->p, n, 1)->data, *bias = el_in(t->p, n, 3)->data + n0;
  const float lo = el_param_f32(n->p[5]), hi = el_param_f32(n->p[6]);
  float *y = (float *)(void *)t->y + r0 * t->N + n0;
  if (t->rows < EL_SPMM_MIN_ROWS) { /* contiguous rows (mode 0) or strided pixels one at a time */
    for (size_t m = 0; m < mr; m++)
      el_spkernels.spmv(1, nc, t->block, (const float *)(const void *)(t->x + row_offset(t, r0 + m)), t->K,
                        t->row_ptr + n0, t->cols, values, bias, y + m * t->N, t->N, lo, hi);
    return;
  }
  float *xt = (float *)(void *)(t->scratch + thread * t->slice);
  const float *rows[EL_SPMM_MT];
  for (size_t i = 0; i < EL_SPMM_MT; i++)
    rows[i] = (const float *)(const void *)(t->x + row_offset(t, r0 + (i < mr ? i : mr - 1)));
  for (size_t k = 0; k < t->K; k++, xt += EL_SPMM_MT) /* column k of the tile: contiguous writes */
    for (size_t i = 0; i < EL_SPMM_MT; i++) xt[i] = rows[i][k];
  xt = (float *)(void *)(t->scratch + thread * t->slice);
  el_spkernels.spmm(mr, nc, t->block, xt, t->row_ptr + n0, t->cols, values, bias, y, t->N, lo, hi);
}

void el_run_spmm(const el_program *p, const el_node *n) {
  sparse_task t;
  init_task(&t, p, n, n->p + 7, 4, f32_slice_bytes((size_t)n->p[1]));
  el_parallel_work(p, spmm_tile, &t, t.row_tiles * t.splits, (double)t.rows * (double)n->p[4] * (double)t.block);
}

static void qspmm_tile(const void *ctx, size_t tile, size_t thread) {
  const sparse_task *t = ctx;
  const el_node *n = t->n;
  size_t r0, mr, n0, nc;
  tile_extent(t, tile, &r0, &mr, &n0, &nc);
  if (nc == 0) return;
  const int32_t *words = (const int32_t *)(const void *)el_in(t->p, n, 1)->data;
  const int32_t *ch = (const int32_t *)(const void *)el_in(t->p, n, 3)->data + 4 * n0;
  const el_qout q = {(int32_t)n->p[6], (int32_t)n->p[7], (int32_t)n->p[8]};
  const int32_t zp = (int32_t)n->p[5];
  const size_t kp = t->K + (t->K & 1);
  int8_t *y = (int8_t *)t->y + r0 * t->N + n0;
  int16_t *xt = (int16_t *)(void *)(t->scratch + thread * t->slice);
  if (t->rows < EL_SPMM_MIN_ROWS) { /* mr rows of kp int16 (the odd K's last column 0) */
    for (size_t m = 0; m < mr; m++) {
      el_qkernels.qpack(t->K, (const int8_t *)(t->x + row_offset(t, r0 + m)), zp, xt + m * kp);
      if (kp > t->K) xt[m * kp + t->K] = 0;
    }
    el_spkernels.qspmv(mr, nc, t->block, xt, kp, t->row_ptr + n0, t->cols, words, ch, y, t->N, &q);
    return;
  }
  const int8_t *rows[EL_SPMM_MT];
  for (size_t i = 0; i < EL_SPMM_MT; i++) rows[i] = (const int8_t *)(t->x + row_offset(t, r0 + (i < mr ? i : mr - 1)));
  int16_t *pair = xt;
  for (size_t k = 0; k + 1 < t->K; k += 2, pair += 2 * EL_SPMM_MT) /* columns k, k + 1: contiguous writes */
    for (size_t i = 0; i < EL_SPMM_MT; i++) {
      pair[2 * i] = (int16_t)(rows[i][k] - zp);
      pair[2 * i + 1] = (int16_t)(rows[i][k + 1] - zp);
    }
  if (t->K & 1) /* the odd K's last column, paired with 0 */
    for (size_t i = 0; i < EL_SPMM_MT; i++) {
      pair[2 * i] = (int16_t)(rows[i][t->K - 1] - zp);
      pair[2 * i + 1] = 0;
    }
  el_spkernels.qspmm(mr, nc, t->block, xt, t->row_ptr + n0, t->cols, words, ch, y, t->N, &q);
}

void el_run_qspmm(const el_program *p, const el_node *n) {
  sparse_task t;
  init_task(&t, p, n, n->p + 9, 1, q_slice_bytes((size_t)n->p[1]));
  el_parallel_work(p, qspmm_tile, &t, t.row_tiles * t.splits, (double)t.rows * (double)n->p[4] * (double)t.block);
}
