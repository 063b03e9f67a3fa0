/* The lowered program: flat tensor and node tables (copied and validated once), run in one call.
 *
 * Tensor table: EL_TENSOR_WORDS int64 per tensor:
 *   [buffer, byte offset, nbytes, dtype (enum el_dtype), rank, dims[EL_MAX_RANK]]
 * Node table: EL_NODE_WORDS int64 per node:
 *   [op, n_inputs, inputs[EL_MAX_INPUTS], output, params[EL_NODE_PARAMS]]
 * Buffers are byte ranges the binding holds (buffer 0: the arena); floats in params are the
 * int64 of their float32 bit pattern. */
#ifndef EL_ENGINE_H
#define EL_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "el_pool.h"

#define EL_MAX_RANK 6
#define EL_MAX_INPUTS 16
#define EL_NODE_PARAMS 29
#define EL_TENSOR_WORDS (5 + EL_MAX_RANK)
#define EL_NODE_WORDS (3 + EL_MAX_INPUTS + EL_NODE_PARAMS)
#define EL_IM2COL_ROWS 48   /* rows of the im2col tile: a multiple of every gemm MR */
#define EL_DW_MAX_TAPS 64   /* larger depthwise windows stay on the reference executor */
#define EL_DW_CHUNK 32      /* output pixels per indirection chunk (on the stack) */
#define EL_MAX_ELEMENTS ((int64_t)1 << 40)

enum el_op {
#define EL_OP(code, name, lo, hi) EL_OP_##code,
#include "ops.inc"
#undef EL_OP
  EL_OP_COUNT
};

typedef struct {
  char *base;
  size_t size;
  int writable;
} el_buffer;

/* Element types of the tensor table; ops other than the int8 ones (el_op_mixed_dtypes) take
 * float32 tensors only, which engine.c checks. */
enum el_dtype { EL_F32 = 0, EL_I8 = 1, EL_I32 = 2, EL_I16 = 3, EL_DTYPE_COUNT };

typedef struct {
  float *data; /* of `dtype`: int8 ops cast it (see el_i8) */
  int64_t rank, count;
  int64_t dims[EL_MAX_RANK];
  int writable;
  int dtype;
} el_tensor;

static inline int8_t *el_i8(const el_tensor *t) { return (int8_t *)(void *)t->data; }
/* Whether `op` checks its operands' dtypes itself (ops_qconv.c); the others get float32 only. */
int el_op_mixed_dtypes(int64_t op);

typedef struct {
  int64_t op, n_inputs, inputs[EL_MAX_INPUTS], output, p[EL_NODE_PARAMS];
} el_node;

typedef struct {
  el_tensor *tensors;
  size_t n_tensors;
  el_node *nodes;
  size_t n_nodes;
  size_t n_threads; /* per-thread scratch: thread t uses slice t of each scratch tensor */
  el_pool *pool;    /* NULL: one thread */
} el_program;

/* Build from caller tables (copied) with a pool of n_threads (>= 1; validation sizes per-thread
 * scratch by it); on failure returns NULL and writes a message to err, and (when `refused` is not
 * NULL) the index of the node whose validation failed to *refused (-1 for other failures). */
el_program *el_program_create(const int64_t *tensor_words, size_t n_tensors, const int64_t *node_words,
                              size_t n_nodes, const el_buffer *buffers, size_t n_buffers, size_t n_threads,
                              char *err, size_t err_len, long long *refused);
void el_program_destroy(el_program *program);
/* Run nodes [start, end): needs no allocation, takes no lock; safe without the GIL. */
void el_program_run(const el_program *program, size_t start, size_t end);

/* Per-op validation and execution (ops_*.c). validate returns 0 or writes err and returns -1. */
typedef int el_validate_fn(const el_program *p, const el_node *n, char *err, size_t err_len);
typedef void el_run_fn(const el_program *p, const el_node *n);
#define EL_OP(code, name, lo, hi) el_validate_fn el_validate_##name; el_run_fn el_run_##name;
#include "ops.inc"
#undef EL_OP

/* Run fn over `tiles` on the program's pool (inline with one thread). */
static inline void el_parallel(const el_program *p, el_task_fn *fn, const void *ctx, size_t tiles) {
  el_pool_run(p->pool, fn, ctx, tiles);
}

/* Multiply-adds below which an op runs on the calling thread: handing it to the pool and moving
 * its data between cores costs more than the work (under a microsecond; tuned on face_landmark and
 * MobileNetV2-0.35, where 25K beat 0, 50K, 100K and 200K at 2 threads). */
#define EL_PARALLEL_MIN_WORK 25000.0

/* Threads for an op of `work` multiply-adds (or elements). */
static inline size_t el_threads_for(const el_program *p, double work) {
  return work < EL_PARALLEL_MIN_WORK ? 1 : p->n_threads;
}

/* el_parallel, or the calling thread alone when the op is too small to split. */
static inline void el_parallel_work(const el_program *p, el_task_fn *fn, const void *ctx, size_t tiles,
                                    double work) {
  el_pool_run(el_threads_for(p, work) > 1 ? p->pool : NULL, fn, ctx, tiles);
}

static inline float el_param_f32(int64_t word) {
  uint32_t bits = (uint32_t)word;
  float value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

static inline const el_tensor *el_in(const el_program *p, const el_node *n, int i) {
  return &p->tensors[n->inputs[i]];
}
static inline const el_tensor *el_out(const el_program *p, const el_node *n) {
  return &p->tensors[n->output];
}

/* Formats a validation failure; always returns -1. */
int el_fail(char *err, size_t err_len, const el_node *n, const char *fmt, ...);

#endif
