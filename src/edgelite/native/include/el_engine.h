/* The lowered program: flat tensor and node tables (copied and validated once), run in one call.
 *
 * Tensor table: EL_TENSOR_WORDS int64 per tensor:
 *   [buffer, byte offset, nbytes, dtype (0: float32), rank, dims[EL_MAX_RANK]]
 * Node table: EL_NODE_WORDS int64 per node:
 *   [op, n_inputs, inputs[EL_MAX_INPUTS], output, params[EL_NODE_PARAMS]]
 * Buffers are byte ranges the binding holds (buffer 0: the arena); floats in params are the
 * int64 of their float32 bit pattern. */
#ifndef EL_ENGINE_H
#define EL_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

typedef struct {
  float *data;
  int64_t rank, count;
  int64_t dims[EL_MAX_RANK];
  int writable;
} el_tensor;

typedef struct {
  int64_t op, n_inputs, inputs[EL_MAX_INPUTS], output, p[EL_NODE_PARAMS];
} el_node;

typedef struct {
  el_tensor *tensors;
  size_t n_tensors;
  el_node *nodes;
  size_t n_nodes;
} el_program;

/* Build from caller tables (copied); on failure returns NULL and writes a message to err. */
el_program *el_program_create(const int64_t *tensor_words, size_t n_tensors, const int64_t *node_words,
                              size_t n_nodes, const el_buffer *buffers, size_t n_buffers, char *err,
                              size_t err_len);
void el_program_destroy(el_program *program);
/* Run nodes [start, end): needs no allocation, takes no lock; safe without the GIL. */
void el_program_run(const el_program *program, size_t start, size_t end);

/* Per-op validation and execution (ops_*.c). validate returns 0 or writes err and returns -1. */
typedef int el_validate_fn(const el_program *p, const el_node *n, char *err, size_t err_len);
typedef void el_run_fn(const el_program *p, const el_node *n);
#define EL_OP(code, name, lo, hi) el_validate_fn el_validate_##name; el_run_fn el_run_##name;
#include "ops.inc"
#undef EL_OP

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
