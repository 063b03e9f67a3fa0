/* The compiler: plan and lowering of a whole subgraph in one C pass (compile.c), the fast path of
 * runtime/plan.py + runtime/native*.py for graphs whose every node it knows.
 *
 * It reads the reader's walker tuples (reader.h) of one subgraph, infers every tensor's shape,
 * plans the arena as plan.py does (same lifetimes, aliases and PAD-fusion extensions, same
 * planner.c) and lowers every node to the same tensor / node table entries and packed weights as
 * the Python lowerers. It is conservative: any node, tensor or option it does not handle exactly
 * as the Python path would makes it give up (EL_DEFER, with the reason), and the caller runs the
 * Python path, which plans, partitions or reports the problem. So the compiler never raises for
 * a bad model: it only ever succeeds with the Python path's result, or defers.
 *
 * The driver is compile.c, the helpers declared below compile_api.c. Per op (compile_f32.c,
 * compile_int8.c, ...): `prepare` checks the node and sets its outputs' shapes (the shape functions
 * of ops/); `lower` appends its node row. Both return 0, EL_DEFER
 * (el_defer) or -1 (a Python exception is set: out of memory). */
#ifndef EL_COMPILE_H
#define EL_COMPILE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "el_engine.h"
#include "el_options.h"

#define EL_DEFER (-2)
#define EL_C_MAX_IO 16    /* operator inputs / outputs beyond this: defer */
#define EL_C_MAX_OPTS 12  /* option values kept per operator */
#define EL_WINDOW_LIMIT (1 << 16) /* kernel, stride, dilation extents the engine takes (el_ops_common.h) */
#define EL_PAD_LIMIT (1 << 20)    /* and pads */

/* TensorType codes (model/ir.py) */
enum { EL_T_FLOAT32 = 0, EL_T_FLOAT16 = 1, EL_T_INT32 = 2, EL_T_UINT8 = 3, EL_T_INT64 = 4, EL_T_BOOL = 6,
       EL_T_INT16 = 7, EL_T_INT8 = 9 };
/* BuiltinOperator codes (model/_schema.py) */
enum {
  EL_B_ADD = 0, EL_B_AVERAGE_POOL_2D = 1, EL_B_CONCATENATION = 2, EL_B_CONV_2D = 3, EL_B_DEPTHWISE_CONV_2D = 4,
  EL_B_DEQUANTIZE = 6, EL_B_FULLY_CONNECTED = 9, EL_B_LOGISTIC = 14, EL_B_MAX_POOL_2D = 17, EL_B_MUL = 18,
  EL_B_RELU = 19, EL_B_RELU_N1_TO_1 = 20, EL_B_RELU6 = 21, EL_B_RESHAPE = 22, EL_B_RESIZE_BILINEAR = 23,
  EL_B_SOFTMAX = 25, EL_B_CUSTOM = 32, EL_B_TANH = 28, EL_B_PAD = 34, EL_B_MEAN = 40, EL_B_SUB = 41, EL_B_DIV = 42,
  EL_B_SQUEEZE = 43, EL_B_PRELU = 54, EL_B_MAXIMUM = 55, EL_B_MINIMUM = 57, EL_B_EXPAND_DIMS = 70,
  EL_B_LEAKY_RELU = 98, EL_B_ELU = 111, EL_B_QUANTIZE = 114, EL_B_HARD_SWISH = 117, EL_B_GELU = 150,
  EL_B_RELU_0_TO_1 = 152,
  EL_B_TCONV_BIAS = 255, /* the custom op MediaPipe's Convolution2DTransposeBias (not a builtin code) */
  EL_B_COUNT = 256
};
/* ops/_common.py's Activation and Padding */
enum { EL_ACT_NONE = 0, EL_ACT_RELU = 1, EL_ACT_RELU_N1_TO_1 = 2, EL_ACT_RELU6 = 3 };
enum { EL_PAD_SAME = 0, EL_PAD_VALID = 1 };

/* One tensor of the subgraph. */
typedef struct {
  int type;                   /* TensorType code */
  int rank;                   /* <= EL_MAX_RANK (deeper tensors defer) */
  int64_t dims[EL_MAX_RANK];  /* the planned shape: the file's, an input's override, or inferred */
  const char *data;           /* a constant's bytes (the file's, or the float16 block's), else NULL */
  int64_t data_bytes;
  int n_scales, n_zeros;      /* quantization parameters (0: none) */
  const float *scales;
  const int64_t *zeros;
  int quant_axis;
  int variable;
  /* set by the compiler */
  int shaped;                 /* dims known: a constant, a graph input, or written by a prepared node */
  int64_t offset;             /* arena offset, -1 when not in the arena */
  int row;                    /* its tensor-table row, -1 until a lowerer asks for it */
  int32_t first, last;        /* lifetime steps, -1 when not in the arena */
  int32_t alias;              /* the tensor whose arena bytes it shares, -1 */
  int32_t readers;            /* node inputs that read it */
} el_ctensor;

/* An option value: ints and bools in i (and f), floats in f. */
typedef struct {
  int64_t i;
  double f;
} el_cvalue;

/* One operator. */
typedef struct {
  int index;                  /* in the subgraph's operator list (its step) */
  int builtin;
  int n_in, n_out;
  int32_t in[EL_C_MAX_IO], out[EL_C_MAX_IO];
  int options_code;           /* BuiltinOptions union code, 0 without options */
  int n_opt;
  el_cvalue opt[EL_C_MAX_OPTS];  /* the options table's values, in model/_schema.FIELDS order */
  int folded;                 /* a DEQUANTIZE of a float16 constant, widened at compile time */
  const char *custom_options; /* a custom op's options bytes (the walker's bytes object) */
  Py_ssize_t custom_size;
  int n_vec;                  /* the first non-empty vector option (RESHAPE new_shape, SQUEEZE squeeze_dims): */
  int64_t vec[EL_MAX_RANK];   /* n_vec of them; 0 when it is absent or empty, -1 when not ints or too long */
} el_cnode;

/* A PAD the next convolution may read through (native.py's Lowering.pads). */
typedef struct {
  int32_t output, source, step;
  int node_row;
  int64_t before[4];
} el_cpad;

typedef struct el_compiler {
  el_ctensor *t;
  int32_t n_tensors;
  el_cnode *nodes;
  int32_t n_nodes;
  const int32_t *inputs, *outputs;  /* the subgraph's */
  int32_t n_inputs, n_outputs;
  int threads;                /* scratch holds one slice per thread */
  int prefer_quads;           /* native_qgemm.prefer_quads() */
  int dw_format;              /* -1: auto (native_qgemm.choose_dw_format), else the format */
  PyObject *heap;             /* the lowering's slabs (_slab.c Heap) */
  /* the tables being built */
  int64_t *trows;             /* EL_TENSOR_WORDS per row */
  int n_trows, cap_trows;
  int64_t *nrows;             /* EL_NODE_WORDS per row */
  int n_nrows, cap_nrows;
  PyObject *buffers;          /* list: buffer 0 is the arena (None here, the caller's) */
  PyObject *writable;         /* list of bools, one per buffer */
  int64_t scratch_floats, zero_floats;
  int scratch_row, zeros_row;
  el_cpad pads[8];            /* PADs lowered, the last few */
  int n_pads;
  int32_t position;           /* index in nodes of the node being lowered */
  PyObject *tables;           /* runtime/compiled.py's table maker (el_python_table) */
  PyObject *fused;            /* list: outputs of the PADs convolutions read through */
  char reason[200];           /* why the compiler deferred */
} el_compiler;

/* Bytes per element of a TensorType code (0: no fixed size, or a type the compiler does not take). */
int el_itemsize(int type);
/* Gives the shared scratch and zeros rows their memory once every node is lowered (native.Lowering.tables). */
int el_finish_rows(el_compiler *c);
/* Defers (returns EL_DEFER) with a printf-style reason. */
int el_defer(el_compiler *c, const char *format, ...);

/* ---- for prepare: shapes */
/* Sets tensor i's shape (rank dims); defers when it is out of range. */
int el_set_shape(el_compiler *c, int32_t i, int rank, const int64_t *dims);
/* Elements of tensor i. */
int64_t el_count(const el_ctensor *t);
/* Whether tensor i is present (>= 0) and a constant. */
int el_is_constant(const el_compiler *c, int32_t i);
/* The values of tensor i when it is an int32 or int64 constant of at most `limit` values: their
 * count, else -1. */
int64_t el_int_values(const el_compiler *c, int32_t i, int64_t *values, int64_t limit);
/* The option value k of a node as an int / a float; defers (via the return) when missing. */
int el_opt_int(el_compiler *c, const el_cnode *node, int k, int64_t *value);
int el_opt_float(el_compiler *c, const el_cnode *node, int k, double *value);
/* ops/_common.py padding_before for SAME padding (0 for VALID): the window's pad before the
 * first element, and the output size of SAME / VALID (ops/_conv.py window output). */
int64_t el_pad_before(int64_t size, int64_t kernel, int64_t stride, int64_t dilation, int64_t out);
int64_t el_window_out(int padding, int64_t size, int64_t kernel, int64_t stride, int64_t dilation);

/* The node's options must be of table `code` (or absent, where `optional`); defers otherwise. */
int el_options_of(el_compiler *c, const el_cnode *node, int code, int optional);
/* Python's // on int64 (rounds toward minus infinity). */
static inline int64_t el_floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* A windowed node's geometry as the engine's params take it: kernel, stride and dilation (height,
 * width) and the pads before (top, left). */
typedef struct {
  int64_t kh, kw, sh, sw, dh, dw, pads[2];
} el_window;
/* The geometry of a kh x kw window of `node` over x into out (native._window): strides and dilations
 * from the options at positions {padding, stride_w, stride_h, dilation_w, dilation_h} (dilation 1
 * where its position is -1), SAME padding's pads before; defers for an unknown padding and for a
 * window or pads beyond the engine's range (which also keeps the window arithmetic in int64). */
int el_window_of(el_compiler *c, const el_cnode *node, const int positions[5], int64_t kh, int64_t kw, int32_t x,
                 int32_t out, el_window *w);

/* ---- for lower: table rows */
/* The tensor-table row of graph tensor i (its arena bytes, or a copy of a constant into the heap),
 * checking its type is one of `types` (a bitmask of 1 << TensorType code); defers otherwise. */
int el_tensor_row(el_compiler *c, int32_t i, unsigned types);
/* A new row over `nbytes` of heap memory (zeroed when `zeroed`), 64-byte aligned, of el_dtype
 * `dtype` and the given shape; *data points at it. Returns the row or -1. */
int el_heap_row(el_compiler *c, int64_t nbytes, int zeroed, int dtype, int rank, const int64_t *dims,
                int writable, char **data);
/* A row over bytes copied into the heap (el_heap_row + memcpy). */
int el_copy_row(el_compiler *c, const void *bytes, int64_t nbytes, int dtype, int rank, const int64_t *dims);
/* The shared scratch row (`floats` per thread) and the shared zeros row (at least `floats`). */
int el_scratch_row(el_compiler *c, int64_t floats);
int el_zeros_row(el_compiler *c, int64_t floats);
/* Appends a node row: `op` (enum el_op) reading rows `inputs`, writing graph tensor `output`
 * (whose type must be one of `types`), with params; returns the node row or a negative status. */
int el_node_row(el_compiler *c, int op, const int *inputs, int n_inputs, int32_t output, unsigned types,
                const int64_t *params, int n_params);
/* native.collapse_broadcast (compile_f32.c): dims and element strides of a and b over out, adjacent
 * dims merged, padded to EL_MAX_RANK at the front. */
int el_collapse_broadcast(const el_ctensor *out, const el_ctensor *a, const el_ctensor *b, int64_t dims[EL_MAX_RANK],
                          int64_t sa[EL_MAX_RANK], int64_t sb[EL_MAX_RANK]);
/* float32 bits of a double rounded to float32, as native.f32_bits. */
int64_t el_f32_bits(double value);

/* Bytes of a table the Python reference computes (int8 activations, softmax exp, dequantize):
 * tables(kind, *args) from runtime/compiled.py, e.g. el_python_table(c, "softmax_exp", "(dd)", in_scale,
 * beta). A new reference to a bytes object, or NULL (a Python exception is set). */
PyObject *el_python_table(el_compiler *c, const char *kind, const char *format, ...);

/* ---- shared prepares (compile_shapes.c): the checks and shape functions of ops/ for any dtype */
int el_prepare_conv(el_compiler *c, el_cnode *node);            /* CONV_2D */
int el_prepare_depthwise(el_compiler *c, el_cnode *node);       /* DEPTHWISE_CONV_2D */
int el_prepare_fully_connected(el_compiler *c, el_cnode *node); /* FULLY_CONNECTED */
int el_prepare_pool(el_compiler *c, el_cnode *node);            /* MAX_POOL_2D, AVERAGE_POOL_2D */
int el_prepare_broadcast(el_compiler *c, el_cnode *node);       /* two inputs, broadcast output */
int el_prepare_same(el_compiler *c, el_cnode *node);            /* output shaped as input 0 */
int el_prepare_mean(el_compiler *c, el_cnode *node);            /* MEAN over constant axes */
int el_prepare_pad(el_compiler *c, el_cnode *node);             /* PAD by constant paddings */
int el_prepare_concat(el_compiler *c, el_cnode *node);          /* CONCATENATION */
int el_prepare_reshape(el_compiler *c, el_cnode *node);         /* RESHAPE, SQUEEZE, EXPAND_DIMS */

/* ---- PAD fusion (native.py _fused_pad / fuse_pad_input / _skip_pad / offer_pad) */
/* Offers the PAD node being lowered (node row `row`, pads `pairs` [rank][2]) to the next
 * convolution, when it pads height and width only. */
void el_offer_pad(el_compiler *c, const el_cnode *node, int row, int rank, const int64_t *pairs);
/* When x is a PAD's output the convolution writing `out` can read through: the PAD's input in *x and
 * its pads added to pads[2] (top, left); returns 1 when fused (then call el_skip_pad), else 0. */
int el_fuse_pad_input(el_compiler *c, int32_t *x, int32_t out, int64_t pads[2]);
/* The fused PAD's node row becomes a copy of its output onto itself (skipped by the engine). */
void el_skip_pad(el_compiler *c, int32_t pad_output);

/* ---- per op */
typedef int (*el_compile_fn)(el_compiler *c, el_cnode *node);
typedef struct {
  el_compile_fn prepare;   /* checks + output shapes (dtype-independent where it can be) */
  el_compile_fn lower;     /* NULL: not lowered by this family */
} el_compile_op;

/* The families' tables, indexed by builtin code (NULL entries: not handled). A node goes to the
 * int8 family when its first input or its output is quantized (native_int8._is_quantized_node). */
extern const el_compile_op el_compile_f32[EL_B_COUNT];
extern const el_compile_op el_compile_int8[EL_B_COUNT];

/* The hybrid family (compile_hybrid.c): CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED nodes of a
 * float32 input with int8 weights (native_hybrid.is_hybrid), which the float32 family's lowerers of
 * those ops hand over, as native_hybrid.install routes them. */
int el_lower_hybrid(el_compiler *c, el_cnode *node);

/* compile(subgraph entry, spans, floats, ints, data, input shapes, threads, prefer_quads, dw_format,
 * heap) -> result tuple or (None, reason); the CPython binding (compile.c). */
PyObject *el_py_compile(PyObject *m, PyObject *args);

#endif
