/* The compiler's hybrid family: the lowerers of runtime/native_hybrid.py (lower_conv,
 * lower_fully_connected, lower_depthwise), node for node: the same operands in the same order, the
 * same params, the same packed hgemm groups (pack.c's el_pack_hgemm, as _pack.c's pack_hgemm calls
 * it). A float32 input with constant int8 weights; anything the Python lowerer would refuse defers. */
#include "include/el_compile.h" /* Python.h first */

#include <float.h>
#include <math.h>
#include <string.h>

#include "include/el_pack.h"

#define F32_ONLY (1u << EL_T_FLOAT32)
#define PACK_MAX_EXTENT ((int64_t)1 << 24) /* _pack.c's check_extents */
/* ops_hybrid.c's input quantizations (native_hybrid.SYMMETRIC, ...) */
enum { SYMMETRIC = 0, ASYMMETRIC_DOUBLE = 1, ASYMMETRIC_FLOAT = 2 };
/* BuiltinOptions codes and option positions (model/_schema.py; tests/native/test_compile.py checks) */

/* native_hybrid._operands: constant int8 weights with scales, an optional constant float32 bias. */
typedef struct {
  const el_ctensor *weights, *bias; /* bias NULL when absent */
  const uint32_t *scales;           /* float32 bits */
  int64_t n_scales;
} hybrid_operands;

static int operands_of(el_compiler *c, const el_cnode *node, int options_code, hybrid_operands *ops) {
  if (node->options_code != options_code) return el_defer(c, "hybrid node %d: options of table %d", node->index,
                                                          node->options_code);
  if (node->n_in < 2 || node->n_in > 3 || node->n_out != 1 || node->in[0] < 0 || !el_is_constant(c, node->in[1]))
    return el_defer(c, "hybrid node %d: operands", node->index);
  ops->weights = &c->t[node->in[1]];
  if (ops->weights->type != EL_T_INT8 || ops->weights->n_scales < 1 || ops->weights->scales == NULL)
    return el_defer(c, "hybrid weights are not constant int8 with scales");
  ops->scales = (const uint32_t *)(const void *)ops->weights->scales;
  ops->n_scales = ops->weights->n_scales;
  ops->bias = NULL;
  if (node->n_in > 2 && node->in[2] >= 0) {
    if (!el_is_constant(c, node->in[2]) || c->t[node->in[2]].type != EL_T_FLOAT32)
      return el_defer(c, "hybrid bias is not a constant float32 tensor");
    ops->bias = &c->t[node->in[2]];
  }
  return 0;
}

/* native_hybrid._clamp: only the clamping activations; NONE is unclamped (+-inf) where asked, else
 * float32's whole range (activation_range). */
static int clamp_of(el_compiler *c, const el_cnode *node, int position, int unclamped_none, int64_t clamp[2]) {
  int64_t activation;
  if (el_opt_int(c, node, position, &activation) < 0) return EL_DEFER;
  double low, high;
  switch (activation) {
    case EL_ACT_NONE: low = unclamped_none ? -INFINITY : -FLT_MAX, high = unclamped_none ? INFINITY : FLT_MAX; break;
    case EL_ACT_RELU: low = 0.0, high = FLT_MAX; break;
    case EL_ACT_RELU6: low = 0.0, high = 6.0; break;
    case EL_ACT_RELU_N1_TO_1: low = -1.0, high = 1.0; break;
    default: return el_defer(c, "hybrid fused activation %lld", (long long)activation);
  }
  clamp[0] = el_f32_bits(low), clamp[1] = el_f32_bits(high);
  return 0;
}

/* The engine's NHWC pair: the output of the input's batch, of `channels` channels. */
static int output_fits(el_compiler *c, const el_cnode *node, int64_t channels) {
  const el_ctensor *x = &c->t[node->in[0]], *out = &c->t[node->out[0]];
  if (x->rank != 4 || out->rank != 4 || x->dims[0] != out->dims[0] || out->dims[3] != channels)
    return el_defer(c, "hybrid output of another batch or depth");
  return 0;
}

/* native_hybrid.pack_groups: [n, k] int8 weights into hgemm groups on the heap, a flat int8 row
 * (native_int8.packed). pack_hgemm's ValueErrors (extents, scale and bias counts) defer. */
static int packed_groups_row(el_compiler *c, const hybrid_operands *ops, int64_t n, int64_t k) {
  if (n < 1 || k < 1 || n > PACK_MAX_EXTENT || k > PACK_MAX_EXTENT || n * k > EL_MAX_ELEMENTS ||
      el_count(ops->weights) != n * k)
    return el_defer(c, "hybrid weights %lld x %lld out of range", (long long)n, (long long)k);
  if ((ops->n_scales != 1 && ops->n_scales != n) || (ops->bias && el_count(ops->bias) != n))
    return el_defer(c, "hybrid scale or bias count");
  const int64_t nbytes = (int64_t)el_pack_hgemm_bytes((size_t)n, (size_t)k);
  char *data;
  const int row = el_heap_row(c, nbytes, 1, EL_I8, 1, &nbytes, 0, &data);
  if (row >= 0)
    el_pack_hgemm((const int8_t *)(const void *)ops->weights->data, (size_t)n, (size_t)k, ops->scales,
                  (size_t)ops->n_scales, ops->bias ? (const uint32_t *)(const void *)ops->bias->data : NULL, data);
  return row;
}

/* native_hybrid._buffers: the node's writable int16 quantized input and its per-region scales, as
 * rows inputs[0] and inputs[1]. */
static int buffers_of(el_compiler *c, int64_t values, int64_t regions, int *inputs) {
  char *data;
  if (values < 1 || regions < 1) return el_defer(c, "hybrid buffers of no values");
  if ((inputs[0] = el_heap_row(c, values * 2, 1, EL_I16, 1, &values, 1, &data)) < 0) return inputs[0];
  if ((inputs[1] = el_heap_row(c, regions * 4, 1, EL_F32, 1, &regions, 1, &data)) < 0) return inputs[1];
  return 0;
}

static int lower_fully_connected(el_compiler *c, el_cnode *node) {
  hybrid_operands ops;
  int64_t format, asymmetric, clamp[2];
  int status;
  if ((status = operands_of(c, node, OPT_FC, &ops)) < 0 ||
      (status = el_opt_int(c, node, FC_WEIGHTS_FORMAT, &format)) < 0 ||
      (status = el_opt_int(c, node, FC_ASYMMETRIC, &asymmetric)) < 0)
    return status;
  if (ops.weights->rank != 2 || format != 0)
    return el_defer(c, "hybrid FULLY_CONNECTED needs [units, depth] weights in the default format");
  const int64_t units = ops.weights->dims[0], k = ops.weights->dims[1];
  if (units < 1 || k < 1 || (ops.n_scales != 1 && ops.n_scales != units))
    return el_defer(c, "weight scales are neither one nor one per unit");
  if ((status = clamp_of(c, node, FC_ACTIVATION, 1, clamp)) < 0) return status;
  const int64_t rows = el_count(&c->t[node->out[0]]) / units;
  if (el_count(&c->t[node->out[0]]) % units || rows > el_count(&c->t[node->in[0]]) / k)
    return el_defer(c, "hybrid FULLY_CONNECTED output not rows of units, or input too small");
  const int64_t quant = asymmetric ? ASYMMETRIC_DOUBLE : SYMMETRIC;
  int inputs[4];
  if ((inputs[1] = packed_groups_row(c, &ops, units, k)) < 0) return inputs[1];
  if ((inputs[0] = el_tensor_row(c, node->in[0], F32_ONLY)) < 0) return inputs[0];
  if ((status = buffers_of(c, rows * (k + k % 2), rows, inputs + 2)) < 0) return status;
  const int64_t params[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, k, units, quant, clamp[0], clamp[1]};
  const int row = el_node_row(c, EL_OP_HGEMM, inputs, 4, node->out[0], F32_ONLY, params, 14);
  return row < 0 ? row : 0;
}

static int lower_conv(el_compiler *c, el_cnode *node) {
  static const int geometry_at[5] = {CONV_PADDING, CONV_STRIDE_W, CONV_STRIDE_H, CONV_DILATION_W, CONV_DILATION_H};
  hybrid_operands ops;
  int status;
  if ((status = operands_of(c, node, OPT_CONV, &ops)) < 0) return status;
  const el_ctensor *x = &c->t[node->in[0]];
  if (x->rank != 4 || ops.weights->rank != 4 || c->t[node->out[0]].rank != 4)
    return el_defer(c, "hybrid CONV_2D of rank other than 4");
  const int64_t n = x->dims[0], h = x->dims[1], w = x->dims[2], ch = x->dims[3];
  const int64_t o = ops.weights->dims[0], kh = ops.weights->dims[1], kw = ops.weights->dims[2];
  if (ops.weights->dims[3] != ch) return el_defer(c, "grouped hybrid convolution");
  if (ops.n_scales != 1 && ops.n_scales != o) return el_defer(c, "weight scales are neither one nor one per channel");
  int64_t quant = SYMMETRIC; /* conv_2d._hybrid's choice: asymmetric input under differing scales */
  for (int64_t s = 0; s < ops.n_scales; s++)
    if (ops.weights->scales[s] != ops.weights->scales[0]) quant = ASYMMETRIC_FLOAT;
  el_window win;
  int64_t clamp[2];
  if ((status = el_window_of(c, node, geometry_at, kh, kw, node->in[0], node->out[0], &win)) < 0 ||
      (status = output_fits(c, node, o)) < 0 ||
      (status = clamp_of(c, node, CONV_ACTIVATION, 0, clamp)) < 0)
    return status;
  const int64_t k = kh * kw * ch;
  int inputs[5];
  if ((inputs[1] = packed_groups_row(c, &ops, o, k)) < 0) return inputs[1];
  if ((inputs[4] = el_scratch_row(c, (EL_IM2COL_ROWS * (k + k % 2) * 2 + 63) / 64 * 16)) < 0) return inputs[4];
  if ((inputs[0] = el_tensor_row(c, node->in[0], F32_ONLY)) < 0) return inputs[0];
  if ((status = buffers_of(c, n * h * w * ch, n, inputs + 2)) < 0) return status;
  const int64_t params[] = {1, win.kh, win.kw, win.sh, win.sw, win.dh, win.dw, win.pads[0], win.pads[1],
                            k, o, quant, clamp[0], clamp[1]};
  const int row = el_node_row(c, EL_OP_HGEMM, inputs, 5, node->out[0], F32_ONLY, params, 14);
  return row < 0 ? row : 0;
}

static int lower_depthwise(el_compiler *c, el_cnode *node) {
  static const int geometry_at[5] = {DW_PADDING, DW_STRIDE_W, DW_STRIDE_H, DW_DILATION_W, DW_DILATION_H};
  hybrid_operands ops;
  int status;
  if ((status = operands_of(c, node, OPT_DEPTHWISE, &ops)) < 0) return status;
  const el_ctensor *x = &c->t[node->in[0]], *weights = ops.weights;
  if (x->rank != 4 || weights->rank != 4 || c->t[node->out[0]].rank != 4)
    return el_defer(c, "hybrid DEPTHWISE_CONV_2D of rank other than 4");
  const int64_t n = x->dims[0], h = x->dims[1], w = x->dims[2], ch = x->dims[3];
  const int64_t kh = weights->dims[1], kw = weights->dims[2], oc = weights->dims[3];
  if (oc % ch) return el_defer(c, "output channels not a multiple of the input's");
  /* the weights reshaped to [taps, oc], the scales broadcast to oc, the bias one per channel */
  if (weights->dims[0] != 1 || (ops.n_scales != 1 && ops.n_scales != oc) ||
      (ops.bias && (ops.bias->rank != 1 || ops.bias->dims[0] != oc)))
    return el_defer(c, "hybrid depthwise weights, scales or bias do not fit");
  if (oc / ch > (1 << 16)) return el_defer(c, "depth multiplier out of range");
  el_window win;
  int64_t clamp[2];
  if ((status = el_window_of(c, node, geometry_at, kh, kw, node->in[0], node->out[0], &win)) < 0 ||
      (status = output_fits(c, node, oc)) < 0 ||
      (status = clamp_of(c, node, DW_ACTIVATION, 0, clamp)) < 0)
    return status;
  int inputs[5];
  if ((inputs[0] = el_tensor_row(c, node->in[0], F32_ONLY)) < 0) return inputs[0];
  const int64_t taps = kh * kw, weight_dims[2] = {taps, oc}, epilogue_dims[2] = {2, oc};
  char *data;
  if ((inputs[1] = el_heap_row(c, taps * oc * 2, 0, EL_I16, 2, weight_dims, 0, &data)) < 0) return inputs[1];
  const int8_t *values = (const int8_t *)(const void *)weights->data;
  for (int64_t i = 0; i < taps * oc; i++) ((int16_t *)(void *)data)[i] = values[i];
  if ((inputs[2] = el_heap_row(c, 2 * oc * 4, 1, EL_F32, 2, epilogue_dims, 0, &data)) < 0) return inputs[2];
  for (int64_t ch_out = 0; ch_out < oc; ch_out++) /* row 0: the scales; row 1: the bias (zero without one) */
    memcpy(data + 4 * ch_out, &ops.scales[ops.n_scales == 1 ? 0 : ch_out], 4);
  if (ops.bias) memcpy(data + 4 * oc, ops.bias->data, (size_t)oc * 4);
  if ((status = buffers_of(c, n * h * w * ch, n, inputs + 3)) < 0) return status;
  const int64_t params[] = {win.kh, win.kw, win.sh, win.sw, win.dh, win.dw, win.pads[0], win.pads[1],
                            oc / ch, clamp[0], clamp[1], oc - oc % 4};
  const int row = el_node_row(c, EL_OP_HDWCONV, inputs, 5, node->out[0], F32_ONLY, params, 12);
  return row < 0 ? row : 0;
}

int el_lower_hybrid(el_compiler *c, el_cnode *node) {
  switch (node->builtin) {
    case EL_B_CONV_2D: return lower_conv(c, node);
    case EL_B_DEPTHWISE_CONV_2D: return lower_depthwise(c, node);
    case EL_B_FULLY_CONNECTED: return lower_fully_connected(c, node);
    default: return el_defer(c, "hybrid node %d of builtin %d", node->index, node->builtin);
  }
}
