/* The compiler's shared prepares: for each op, the checks runtime/plan.py runs (opdef.types, then
 * opdef.check) and the output shapes of its shape function (the modules of ops/), for the cases
 * mirrored here exactly; everything else defers (el_defer), so that the Python path plans it or reports it.
 *
 * Conservative by design: a prepare returns 0 only when it has proved that the Python check passes
 * and has set every output's shape to what the Python shape function returns. Zero-sized tensors,
 * unusual options, options tables of another op, int16 and other rarely used types defer. */
#include <math.h>
#include <string.h>

#include "include/el_compile.h"


#define ACT_KNOWN_MAX 5            /* ops/_common.Activation: NONE .. SIGN_BIT */
#define DIM_LIMIT ((int64_t)1 << 31)  /* input extents beyond this defer (no int64 overflow below) */
#define COUNT_LIMIT ((int64_t)1 << 53)

#define T_BIT(code) (1u << (code))
#define FLOAT_INT (T_BIT(EL_T_FLOAT32) | T_BIT(EL_T_INT32) | T_BIT(EL_T_INT64))
#define MOVEMENT (FLOAT_INT | T_BIT(EL_T_BOOL) | T_BIT(EL_T_INT8) | T_BIT(EL_T_UINT8) | T_BIT(EL_T_INT16))
#define EIGHT_BIT (T_BIT(EL_T_INT8) | T_BIT(EL_T_UINT8))
#define IS_QUANTIZED_TYPE(type) ((type) == EL_T_INT8 || (type) == EL_T_UINT8 || (type) == EL_T_INT16)

/* ---- window arithmetic (header) */

int64_t el_window_out(int padding, int64_t size, int64_t kernel, int64_t stride, int64_t dilation) {
  if (padding == EL_PAD_SAME) return el_floor_div(size + stride - 1, stride);
  return el_floor_div(size - (kernel - 1) * dilation - 1 + stride, stride);
}

int64_t el_pad_before(int64_t size, int64_t kernel, int64_t stride, int64_t dilation, int64_t out) {
  int64_t effective = (kernel - 1) * dilation + 1;
  int64_t total = (out - 1) * stride + effective - size;
  return total > 0 ? total / 2 : 0;
}

/* ---- tensors, checked */

/* Input k of the node when present and in range (NULL otherwise). */
static const el_ctensor *input_of(const el_compiler *c, const el_cnode *node, int k) {
  if (k >= node->n_in || k >= EL_C_MAX_IO) return NULL;
  int32_t i = node->in[k];
  return i >= 0 && i < c->n_tensors ? &c->t[i] : NULL;
}

static const el_ctensor *output_of(const el_compiler *c, const el_cnode *node) {
  int32_t i = node->out[0];
  return i >= 0 && i < c->n_tensors ? &c->t[i] : NULL;
}

/* The node has these input / output counts (inputs from min_in to max_in), every index in range,
 * absent inputs only at `optional` (a bitmask of positions), one output that no file constant
 * fills, and every present input shaped with sane, non-zero extents. */
static int check_operands(el_compiler *c, const el_cnode *node, int min_in, int max_in, unsigned optional) {
  if (node->n_in < min_in || node->n_in > max_in || node->n_in > EL_C_MAX_IO)
    return el_defer(c, "op %d: %d inputs", node->builtin, node->n_in);
  if (node->n_out != 1) return el_defer(c, "op %d: %d outputs", node->builtin, node->n_out);
  int32_t out = node->out[0];  /* a folded DEQUANTIZE's output holds the widened constant */
  if (out < 0 || out >= c->n_tensors || (!node->folded && (el_is_constant(c, out) || c->t[out].data != NULL)))
    return el_defer(c, "op %d: output %d", node->builtin, out);
  for (int k = 0; k < node->n_in; k++) {
    int32_t i = node->in[k];
    if (i == -1 && (optional >> k & 1u)) continue;
    if (i < 0 || i >= c->n_tensors || i == out) return el_defer(c, "op %d: input %d", node->builtin, i);
    const el_ctensor *t = &c->t[i];
    if (!t->shaped || t->rank < 0 || t->rank > EL_MAX_RANK)
      return el_defer(c, "op %d: input %d not shaped", node->builtin, i);
    for (int d = 0; d < t->rank; d++)
      if (t->dims[d] < 1 || t->dims[d] >= DIM_LIMIT)
        return el_defer(c, "op %d: input %d has extent %lld", node->builtin, i, (long long)t->dims[d]);
    if (el_count(t) > COUNT_LIMIT) return el_defer(c, "op %d: input %d too large", node->builtin, i);
  }
  return 0;
}

static int set_output(el_compiler *c, const el_cnode *node, int rank, const int64_t *dims) {
  for (int d = 0; d < rank; d++)
    if (dims[d] < 1) return el_defer(c, "op %d: output extent %lld", node->builtin, (long long)dims[d]);
  return el_set_shape(c, node->out[0], rank, dims);
}

/* The node carries the options table `code` (not another op's, not none). */
static int require_options(el_compiler *c, const el_cnode *node, int code) {
  if (node->options_code != code)
    return el_defer(c, "op %d: options table %d, expected %d", node->builtin, node->options_code, code);
  return 0;
}

/* ---- quantization, as ops/_quant.py and ops/_qbinary.py read it */

static int has_quantization(const el_ctensor *t) { return t->n_scales > 0 && t->scales != NULL; }

/* quantization_of + scale_and_zero_point: a scale and a zero point to read. */
static int require_quantization(el_compiler *c, const el_ctensor *t, const char *what) {
  if (!has_quantization(t) || t->n_zeros < 1 || t->zeros == NULL)
    return el_defer(c, "%s without quantization", what);
  return 0;
}

static int finite_positive(float scale) { return isfinite(scale) && scale > 0.0f; }

/* _qbinary.affine: one positive finite scale, a zero point within the type's range. */
static int require_affine(el_compiler *c, const el_ctensor *t) {
  if (t->n_scales != 1 || t->scales == NULL || t->n_zeros < 1 || t->zeros == NULL)
    return el_defer(c, "not quantized per tensor");
  if (!finite_positive(t->scales[0])) return el_defer(c, "scale %g", (double)t->scales[0]);
  int64_t low = t->type == EL_T_INT8 ? -128 : 0, high = t->type == EL_T_INT8 ? 127 : 255;
  if (t->type != EL_T_INT8 && t->type != EL_T_UINT8) return el_defer(c, "affine type %d", t->type);
  if (t->zeros[0] < low || t->zeros[0] > high) return el_defer(c, "zero point %lld", (long long)t->zeros[0]);
  return 0;
}

/* _shape._quant_key equality: the same float32 scales and zero points (or both unquantized). */
static int same_quantization(const el_ctensor *a, const el_ctensor *b) {
  int qa = has_quantization(a), qb = has_quantization(b);
  if (!qa || !qb) return qa == qb;
  if (a->n_scales != b->n_scales || a->n_zeros != b->n_zeros) return 0;
  for (int k = 0; k < a->n_scales; k++)
    if (!(a->scales[k] == b->scales[k])) return 0;
  if (a->n_zeros && (a->zeros == NULL || b->zeros == NULL)) return 0;
  for (int k = 0; k < a->n_zeros; k++)
    if (a->zeros[k] != b->zeros[k]) return 0;
  return 1;
}

/* No quantization, or zero points all 0. */
static int zero_points_zero(const el_ctensor *t) {
  if (t->n_zeros > 0 && t->zeros == NULL) return 0;
  for (int k = 0; k < t->n_zeros; k++)
    if (t->zeros[k] != 0) return 0;
  return 1;
}

/* _shape.check_movement over the listed inputs and the output: quantized data moves unchanged. */
static int check_movement(el_compiler *c, const el_cnode *node, int n_data) {
  const el_ctensor *first = input_of(c, node, 0), *out = output_of(c, node);
  if (!IS_QUANTIZED_TYPE(first->type)) return 0;
  for (int k = 1; k < n_data; k++)
    if (!same_quantization(first, input_of(c, node, k))) return el_defer(c, "requantizing movement");
  if (!same_quantization(first, out)) return el_defer(c, "requantizing movement");
  return 0;
}

/* CalculateActivationRangeQuantized's limits stay finite (else Python's int(round(inf)) raises). */
static int require_clamp_finite(el_compiler *c, int64_t activation, float out_scale) {
  if (activation < EL_ACT_RELU || activation > EL_ACT_RELU6) return 0;
  float limit = activation == EL_ACT_RELU6 ? 6.0f : 1.0f;
  if (!isfinite(limit / out_scale)) return el_defer(c, "activation range overflows");
  return 0;
}

/* ---- constant inputs */

/* The integer values of constant tensor `t` (int32 or int64), at most `max`; defers otherwise. */
static int constant_ints(el_compiler *c, const el_cnode *node, int k, int64_t *values, int max, int *n) {
  const int64_t count = input_of(c, node, k) == NULL ? -1 : el_int_values(c, node->in[k], values, max);
  if (count < 1) return el_defer(c, "op %d: input %d is not a constant of 1 to %d ints", node->builtin, k, max);
  *n = (int)count;
  return 0;
}

/* ---- convolutions (ops/_conv.py, conv_2d.py, depthwise_conv_2d.py) */

typedef struct {
  int64_t padding, stride_h, stride_w, dilation_h, dilation_w;
} window_options;

enum { KIND_FLOAT, KIND_HYBRID, KIND_INT8 };

/* check_window, plus a padding of SAME or VALID (Python takes any other value as VALID). */
static int check_window(el_compiler *c, const el_ctensor *x, const el_ctensor *w, const window_options *o) {
  if (x->rank != 4 || w->rank != 4) return el_defer(c, "window op: rank");
  if (o->stride_h < 1 || o->stride_w < 1 || o->dilation_h < 1 || o->dilation_w < 1 || o->stride_h >= DIM_LIMIT
      || o->stride_w >= DIM_LIMIT || o->dilation_h >= DIM_LIMIT || o->dilation_w >= DIM_LIMIT)
    return el_defer(c, "window op: stride or dilation out of range");
  if (o->padding != EL_PAD_SAME && o->padding != EL_PAD_VALID)
    return el_defer(c, "padding %lld", (long long)o->padding);
  return 0;
}

/* conv_kind for float32/float32, float32/int8 (hybrid) and int8/int8; int16 defers. */
static int conv_kind(el_compiler *c, const el_cnode *node, int channel_axis, int *kind) {
  const el_ctensor *x = input_of(c, node, 0), *w = input_of(c, node, 1), *bias = input_of(c, node, 2);
  const el_ctensor *out = output_of(c, node);
  int bias_type, out_type;
  if (x->type == EL_T_FLOAT32 && w->type == EL_T_FLOAT32) {
    *kind = KIND_FLOAT, bias_type = EL_T_FLOAT32, out_type = EL_T_FLOAT32;
  } else if (x->type == EL_T_FLOAT32 && w->type == EL_T_INT8) {
    *kind = KIND_HYBRID, bias_type = EL_T_FLOAT32, out_type = EL_T_FLOAT32;
  } else if (x->type == EL_T_INT8 && w->type == EL_T_INT8) {
    *kind = KIND_INT8, bias_type = EL_T_INT32, out_type = EL_T_INT8;
  } else {
    return el_defer(c, "conv types %d/%d", x->type, w->type);
  }
  if ((bias != NULL && bias->type != bias_type) || out->type != out_type) return el_defer(c, "conv bias/output type");
  if (*kind == KIND_FLOAT) return 0;
  if (!has_quantization(w)) return el_defer(c, "conv weights without quantization");
  if (!zero_points_zero(w)) return el_defer(c, "conv weights with zero points");
  if (w->n_scales != 1 && (w->n_scales != w->dims[channel_axis] || w->quant_axis != channel_axis))
    return el_defer(c, "conv weight scales");
  if (*kind == KIND_INT8 && (!has_quantization(x) || !has_quantization(out)))
    return el_defer(c, "conv input/output without quantization");
  return 0;
}

static int check_bias(el_compiler *c, const el_cnode *node, int64_t channels) {
  const el_ctensor *bias = input_of(c, node, 2);
  if (bias != NULL && el_count(bias) != channels) return el_defer(c, "bias size");
  return 0;
}

static int read_window(el_compiler *c, const el_cnode *node, const int positions[5], window_options *o) {
  int64_t *fields[5] = {&o->padding, &o->stride_w, &o->stride_h, &o->dilation_w, &o->dilation_h};
  for (int k = 0; k < 5; k++) {
    int status = el_opt_int(c, node, positions[k], fields[k]);
    if (status) return status;
  }
  return 0;
}

/* _conv.window_shape: NHWC output of a conv-like op (output extents of at least 1). */
static int set_window_output(el_compiler *c, const el_cnode *node, const window_options *o, int64_t channels) {
  const el_ctensor *x = input_of(c, node, 0), *w = input_of(c, node, 1);
  int64_t dims[4] = {x->dims[0],
                     el_window_out((int)o->padding, x->dims[1], w->dims[1], o->stride_h, o->dilation_h),
                     el_window_out((int)o->padding, x->dims[2], w->dims[2], o->stride_w, o->dilation_w), channels};
  return set_output(c, node, 4, dims);
}

int el_prepare_conv(el_compiler *c, el_cnode *node) {
  static const int positions[5] = {CONV_PADDING, CONV_STRIDE_W, CONV_STRIDE_H, CONV_DILATION_W, CONV_DILATION_H};
  window_options o;
  int kind, status = check_operands(c, node, 2, 3, 1u << 2);
  if (!status) status = require_options(c, node, OPT_CONV);
  if (!status) status = read_window(c, node, positions, &o);
  if (status) return status;
  const el_ctensor *x = input_of(c, node, 0), *w = input_of(c, node, 1);
  if (x->type != EL_T_FLOAT32 && x->type != EL_T_INT8) return el_defer(c, "CONV_2D input type %d", x->type);
  if ((status = check_window(c, x, w, &o))) return status;
  int64_t in_c = x->dims[3], out_c = w->dims[0], filter_c = w->dims[3];
  if (in_c % filter_c || out_c % (in_c / filter_c)) return el_defer(c, "CONV_2D groups");
  if ((status = check_bias(c, node, out_c)) || (status = conv_kind(c, node, 0, &kind))) return status;
  return set_window_output(c, node, &o, out_c);
}

int el_prepare_depthwise(el_compiler *c, el_cnode *node) {
  static const int positions[5] = {DW_PADDING, DW_STRIDE_W, DW_STRIDE_H, DW_DILATION_W, DW_DILATION_H};
  window_options o;
  int64_t multiplier;
  int kind, status = check_operands(c, node, 2, 3, 1u << 2);
  if (!status) status = require_options(c, node, OPT_DEPTHWISE);
  if (!status) status = read_window(c, node, positions, &o);
  if (!status) status = el_opt_int(c, node, DW_MULTIPLIER, &multiplier);
  if (status) return status;
  const el_ctensor *x = input_of(c, node, 0), *w = input_of(c, node, 1);
  if (x->type != EL_T_FLOAT32 && x->type != EL_T_INT8) return el_defer(c, "DEPTHWISE_CONV_2D input type %d", x->type);
  if ((status = check_window(c, x, w, &o))) return status;
  int64_t in_c = x->dims[3], out_c = w->dims[3];
  if (w->dims[0] != 1 || out_c % in_c) return el_defer(c, "DEPTHWISE_CONV_2D filter shape");
  if ((status = check_bias(c, node, out_c)) || (status = conv_kind(c, node, 3, &kind))) return status;
  if (kind == KIND_HYBRID && multiplier != out_c / in_c) return el_defer(c, "depth_multiplier disagrees");
  return set_window_output(c, node, &o, out_c);
}

/* ---- FULLY_CONNECTED (ops/fully_connected.py) */

/* The bias scale of a per-tensor int8 FULLY_CONNECTED is input x weight scale within 2% of the
 * output scale (GetQuantizedConvolutionMultipler), computed as fully_connected.py does. */
static int check_bias_scale(el_compiler *c, const el_ctensor *x, const el_ctensor *w, const el_ctensor *bias,
                            const el_ctensor *out) {
  double product = (double)(x->scales[0] * w->scales[0]);
  double bias_scale = bias->n_scales == 1 && bias->scales != NULL ? (double)bias->scales[0] : 0.0;
  double out_scale = (double)out->scales[0];
  if (!isfinite(product) || !isfinite(bias_scale) || !(out_scale > 0.0) || !isfinite(out_scale))
    return el_defer(c, "FULLY_CONNECTED scales");
  if (!(fabs(product - bias_scale) / out_scale <= 0.02)) return el_defer(c, "FULLY_CONNECTED bias scale");
  return 0;
}

static int check_fc_types(el_compiler *c, const el_cnode *node, int64_t units, int64_t activation) {
  const el_ctensor *x = input_of(c, node, 0), *w = input_of(c, node, 1), *bias = input_of(c, node, 2);
  const el_ctensor *out = output_of(c, node);
  int bias_type = x->type == EL_T_INT8 ? EL_T_INT32 : EL_T_FLOAT32;
  if ((bias != NULL && bias->type != bias_type) || out->type != x->type) return el_defer(c, "FULLY_CONNECTED types");
  if (x->type == EL_T_FLOAT32 && w->type == EL_T_FLOAT32)
    return activation <= EL_ACT_RELU6 ? 0 : el_defer(c, "FULLY_CONNECTED activation");
  if (x->type == EL_T_FLOAT32 && w->type != EL_T_INT8) return el_defer(c, "FULLY_CONNECTED weight type");
  if (x->type == EL_T_INT8 && (w->type != EL_T_INT8 || activation > EL_ACT_RELU6))
    return el_defer(c, "FULLY_CONNECTED int8 weights / activation");
  if (!has_quantization(w)) return el_defer(c, "FULLY_CONNECTED weights without quantization");
  if (w->n_scales > 1 && (w->n_scales != units || w->quant_axis != 0))
    return el_defer(c, "FULLY_CONNECTED weight scales");
  if (x->type == EL_T_FLOAT32) return 0; /* hybrid */
  if (!has_quantization(x) || !has_quantization(out)) return el_defer(c, "FULLY_CONNECTED without quantization");
  if (w->n_scales == 1 && bias != NULL) return check_bias_scale(c, x, w, bias, out);
  return 0;
}

int el_prepare_fully_connected(el_compiler *c, el_cnode *node) {
  int64_t activation, format, keep;
  int status = check_operands(c, node, 2, 3, 1u << 2);
  if (!status) status = require_options(c, node, OPT_FC);
  if (!status) status = el_opt_int(c, node, FC_ACTIVATION, &activation);
  if (!status) status = el_opt_int(c, node, FC_WEIGHTS_FORMAT, &format);
  if (!status) status = el_opt_int(c, node, FC_KEEP_NUM_DIMS, &keep);
  if (status) return status;
  const el_ctensor *x = input_of(c, node, 0), *w = input_of(c, node, 1);
  if (x->type != EL_T_FLOAT32 && x->type != EL_T_INT8) return el_defer(c, "FULLY_CONNECTED input type %d", x->type);
  if (format != 0 || w->rank != 2 || activation < 0 || activation > ACT_KNOWN_MAX)
    return el_defer(c, "FULLY_CONNECTED options / weights rank");
  int64_t units = w->dims[0], in_size = w->dims[1];
  if (keep && (x->rank < 1 || x->dims[x->rank - 1] != in_size)) return el_defer(c, "keep_num_dims");
  if ((status = check_bias(c, node, units)) || (status = check_fc_types(c, node, units, activation))) return status;
  int64_t dims[EL_MAX_RANK];
  if (keep) {
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    dims[x->rank - 1] = units;
    return set_output(c, node, x->rank, dims);
  }
  dims[0] = el_count(x) / in_size, dims[1] = units;
  return set_output(c, node, 2, dims);
}

/* ---- MAX_POOL_2D, AVERAGE_POOL_2D (ops/_pool.py) */

int el_prepare_pool(el_compiler *c, el_cnode *node) {
  int64_t padding, stride_w, stride_h, filter_w, filter_h, activation;
  int status = check_operands(c, node, 1, 1, 0);
  if (!status) status = require_options(c, node, OPT_POOL);
  if (!status) status = el_opt_int(c, node, POOL_PADDING, &padding);
  if (!status) status = el_opt_int(c, node, POOL_STRIDE_W, &stride_w);
  if (!status) status = el_opt_int(c, node, POOL_STRIDE_H, &stride_h);
  if (!status) status = el_opt_int(c, node, POOL_FILTER_W, &filter_w);
  if (!status) status = el_opt_int(c, node, POOL_FILTER_H, &filter_h);
  if (!status) status = el_opt_int(c, node, POOL_ACTIVATION, &activation);
  if (status) return status;
  const el_ctensor *x = input_of(c, node, 0), *out = output_of(c, node);
  if (x->type != EL_T_FLOAT32 && x->type != EL_T_INT8 && x->type != EL_T_UINT8)
    return el_defer(c, "pool input type %d", x->type);
  if (x->rank != 4 || stride_w < 1 || stride_h < 1 || filter_w < 1 || filter_h < 1 || stride_w >= DIM_LIMIT
      || stride_h >= DIM_LIMIT || filter_w >= DIM_LIMIT || filter_h >= DIM_LIMIT)
    return el_defer(c, "pool rank / window");
  if ((padding != EL_PAD_SAME && padding != EL_PAD_VALID) || out->type != x->type || activation < 0
      || activation > ACT_KNOWN_MAX)
    return el_defer(c, "pool padding / output type / activation");
  if (x->type != EL_T_FLOAT32 && (!has_quantization(x) || !has_quantization(out) || activation > EL_ACT_RELU6))
    return el_defer(c, "quantized pool");
  int64_t dims[4] = {x->dims[0], el_window_out((int)padding, x->dims[1], filter_h, stride_h, 1),
                     el_window_out((int)padding, x->dims[2], filter_w, stride_w, 1), x->dims[3]};
  return set_output(c, node, 4, dims);
}

/* ---- broadcasting binaries (ops/_binary.py, _qbinary.py, prelu.py) */

/* The options' fused activation where the Python kernel reads one (getattr default NONE). */
static int binary_activation(el_compiler *c, const el_cnode *node, int code, int position, int64_t *activation) {
  *activation = EL_ACT_NONE;
  if (node->options_code == 0) return 0;
  int status = require_options(c, node, code);
  if (!status) status = el_opt_int(c, node, position, activation);
  if (!status && (*activation < 0 || *activation > ACT_KNOWN_MAX))
    status = el_defer(c, "activation %lld", (long long)*activation);
  return status;
}

/* int8 ADD / SUB (_qbinary.add_sub, 8-bit general path): every multiplier below one. */
static int check_qadd(el_compiler *c, const el_ctensor *x, const el_ctensor *y, const el_ctensor *out) {
  double twice_max = 2.0 * (double)(x->scales[0] > y->scales[0] ? x->scales[0] : y->scales[0]);
  double real = twice_max / ((double)(1 << 20) * (double)out->scales[0]);
  if (!(real > 0.0 && real < 1.0)) return el_defer(c, "ADD/SUB output multiplier %g", real);
  return 0;
}

/* int8 MUL (_qbinary._mul_prepare): a finite multiplier in float32. */
static int check_qmul(el_compiler *c, const el_ctensor *x, const el_ctensor *y, const el_ctensor *out) {
  float product = x->scales[0] * y->scales[0];
  float real = product / out->scales[0];
  if (!isfinite(real)) return el_defer(c, "MUL multiplier");
  return 0;
}

/* 8-bit PRELU (_qbinary._prelu_prepare): finite identity and alpha multipliers. */
static int check_qprelu(el_compiler *c, const el_ctensor *x, const el_ctensor *alpha, const el_ctensor *out) {
  float identity = x->scales[0] / out->scales[0];
  float product = x->scales[0] * alpha->scales[0];
  float negative = product / out->scales[0];
  if (!isfinite(identity) || !isfinite(negative)) return el_defer(c, "PRELU multipliers");
  return 0;
}

/* The quantized kernel's prepare (int8 ADD/SUB/MUL, 8-bit PRELU); other quantized types defer. */
static int check_quantized_binary(el_compiler *c, const el_cnode *node) {
  const el_ctensor *x = input_of(c, node, 0), *y = input_of(c, node, 1), *out = output_of(c, node);
  int64_t activation = EL_ACT_NONE;
  int status = 0;
  if (node->builtin == EL_B_PRELU ? !(EIGHT_BIT & T_BIT(x->type)) : x->type != EL_T_INT8)
    return el_defer(c, "quantized binary type %d", x->type);
  if (y->type != x->type || out->type != x->type) return el_defer(c, "binary types differ");
  if ((status = require_affine(c, x)) || (status = require_affine(c, y)) || (status = require_affine(c, out)))
    return status;
  if (node->builtin == EL_B_ADD) status = binary_activation(c, node, OPT_ADD, ADD_ACTIVATION, &activation);
  else if (node->builtin == EL_B_SUB) status = binary_activation(c, node, OPT_SUB, SUB_ACTIVATION, &activation);
  else if (node->builtin == EL_B_MUL) status = binary_activation(c, node, OPT_MUL, MUL_ACTIVATION, &activation);
  if (status || (status = require_clamp_finite(c, activation, out->scales[0]))) return status;
  if (node->builtin == EL_B_MUL) return check_qmul(c, x, y, out);
  if (node->builtin == EL_B_PRELU) return check_qprelu(c, x, y, out);
  return check_qadd(c, x, y, out);
}

/* Input types of the float / integer kernel, and whether the op has a quantized kernel. */
static int binary_types(int builtin, unsigned *types, int *quantized) {
  *quantized = builtin == EL_B_ADD || builtin == EL_B_SUB || builtin == EL_B_MUL || builtin == EL_B_PRELU;
  switch (builtin) {
    case EL_B_ADD: case EL_B_SUB: case EL_B_MUL: *types = FLOAT_INT; return 1;
    case EL_B_DIV: *types = T_BIT(EL_T_FLOAT32) | T_BIT(EL_T_INT32); return 1;
    case EL_B_MAXIMUM: case EL_B_MINIMUM: *types = FLOAT_INT | EIGHT_BIT | T_BIT(EL_T_INT16); return 1;
    case EL_B_PRELU: *types = T_BIT(EL_T_FLOAT32); return 1;
    default: return 0;
  }
}

int el_prepare_broadcast(el_compiler *c, el_cnode *node) {
  unsigned types;
  int quantized, status = check_operands(c, node, 2, 2, 0);
  if (status) return status;
  if (!binary_types(node->builtin, &types, &quantized)) return el_defer(c, "binary op %d", node->builtin);
  const el_ctensor *x = input_of(c, node, 0), *y = input_of(c, node, 1), *out = output_of(c, node);
  if (quantized && IS_QUANTIZED_TYPE(x->type)) {
    if ((status = check_quantized_binary(c, node))) return status;
  } else {
    if (!(types & T_BIT(x->type))) return el_defer(c, "binary input type %d", x->type);
    if (y->type != x->type || out->type != x->type) return el_defer(c, "binary types differ");
  }
  int rank = x->rank > y->rank ? x->rank : y->rank;
  int64_t dims[EL_MAX_RANK];
  for (int k = 0; k < rank; k++) {
    int kx = k - (rank - x->rank), ky = k - (rank - y->rank);
    int64_t a = kx >= 0 ? x->dims[kx] : 1, b = ky >= 0 ? y->dims[ky] : 1;
    if (a != b && a != 1 && b != 1) return el_defer(c, "shapes do not broadcast");
    dims[k] = a == 1 ? b : a;
  }
  if (node->builtin == EL_B_PRELU) { /* prelu.shape: the output keeps the input's shape */
    if (rank != x->rank || memcmp(dims, x->dims, sizeof(int64_t) * (size_t)rank))
      return el_defer(c, "PRELU alpha does not broadcast into the input");
  }
  return set_output(c, node, rank, dims);
}

/* ---- output shaped as input 0: activations, SOFTMAX, QUANTIZE, DEQUANTIZE */

/* The input types of an activation's quantized kernel (ops/_activation.py's Quantized.types;
 * int16 ones defer), 0 for none. */
static unsigned quantized_activation_types(int builtin) {
  switch (builtin) {
    case EL_B_RELU: case EL_B_RELU6: case EL_B_RELU_N1_TO_1: case EL_B_RELU_0_TO_1: case EL_B_LOGISTIC:
    case EL_B_TANH: case EL_B_HARD_SWISH: case EL_B_LEAKY_RELU: case EL_B_GELU:
      return EIGHT_BIT;
    case EL_B_ELU: return T_BIT(EL_T_INT8);
    default: return 0;
  }
}

/* hard_swish.check: the output multiplier's exponent (QuantizeMultiplier of the float32 quotient
 * (1/128 * input scale) / output scale) must not be positive. */
static int check_hard_swish(el_compiler *c, const el_ctensor *x, const el_ctensor *out) {
  float hires_input_scale = (1.0f / 128.0f) * x->scales[0];
  float real = hires_input_scale / out->scales[0];
  if (!isfinite(real)) return el_defer(c, "HARD_SWISH multiplier");
  int exponent;
  double fraction = frexp((double)real, &exponent);
  if (floor(fabs(fraction) * 2147483648.0 + 0.5) == 2147483648.0) exponent++;
  if (exponent < -31) exponent = 0;
  return exponent > 0 ? el_defer(c, "HARD_SWISH output scale below input scale / 128") : 0;
}

/* _activation.activation_op's check for a float32 input, or an 8-bit one its quantized kernel
 * takes; the output of the same type. */
static int check_activation(el_compiler *c, const el_cnode *node) {
  const el_ctensor *x = input_of(c, node, 0), *out = output_of(c, node);
  int b = node->builtin;
  if (out->type != x->type) return el_defer(c, "activation output type");
  if (x->type == EL_T_FLOAT32) return 0;
  if (!(quantized_activation_types(b) & T_BIT(x->type))) return el_defer(c, "activation %d on type %d", b, x->type);
  int status = require_quantization(c, x, "input");
  if (!status) status = require_quantization(c, out, "output");
  if (!status && b == EL_B_LOGISTIC && out->scales[0] != 1.0f / 256.0f)
    status = el_defer(c, "LOGISTIC output scale");
  if (!status && b == EL_B_HARD_SWISH) status = check_hard_swish(c, x, out);
  return status;
}

/* softmax.check for float32 and int8 -> int8 (output 1/256, zero point -128). */
static int check_softmax(el_compiler *c, const el_ctensor *x, const el_ctensor *out) {
  if (x->rank < 1) return el_defer(c, "SOFTMAX of a scalar");
  if (x->type == EL_T_FLOAT32) return out->type == EL_T_FLOAT32 ? 0 : el_defer(c, "SOFTMAX output type");
  if (x->type != EL_T_INT8 || out->type != EL_T_INT8) return el_defer(c, "SOFTMAX types");
  int status = require_quantization(c, x, "input");
  if (!status) status = require_quantization(c, out, "output");
  if (status) return status;
  float tolerance = (float)(0.001 / 256.0);
  if (fabsf(out->scales[0] - 1.0f / 256.0f) > tolerance || !isfinite(out->scales[0]) || out->zeros[0] != -128)
    return el_defer(c, "SOFTMAX output quantization");
  return 0;
}

/* quantize.check for float32 -> int8/uint8 (per tensor or per channel) and int8/uint8 -> int8/uint8. */
static int check_quantize(el_compiler *c, const el_ctensor *x, const el_ctensor *out) {
  if (!(EIGHT_BIT & T_BIT(out->type))) return el_defer(c, "QUANTIZE output type %d", out->type);
  int status = require_quantization(c, out, "output");
  if (status) return status;
  if (x->type == EL_T_FLOAT32) {
    if (out->n_scales == 1) return 0;
    int axis = out->quant_axis;
    if (axis < 0 || axis >= x->rank || x->dims[axis] != out->n_scales
        || (out->n_zeros != 1 && out->n_zeros != out->n_scales))
      return el_defer(c, "QUANTIZE per-channel scales");
    return 0;
  }
  if (!(EIGHT_BIT & T_BIT(x->type))) return el_defer(c, "QUANTIZE input type %d", x->type);
  if ((status = require_quantization(c, x, "input"))) return status;
  if (x->n_scales > 1 || out->n_scales > 1) return el_defer(c, "per-channel requantize");
  return 0;
}

/* dequantize.check for float16 and 8-bit inputs into float32. */
static int check_dequantize(el_compiler *c, const el_ctensor *x, const el_ctensor *out) {
  if (out->type != EL_T_FLOAT32) return el_defer(c, "DEQUANTIZE output type");
  if (x->type == EL_T_FLOAT16) return 0;
  if (!(EIGHT_BIT & T_BIT(x->type))) return el_defer(c, "DEQUANTIZE input type %d", x->type);
  if (!has_quantization(x) || x->n_zeros != x->n_scales || x->zeros == NULL)
    return el_defer(c, "DEQUANTIZE quantization");
  if (x->n_scales > 1 && (x->quant_axis < 0 || x->quant_axis >= x->rank || x->dims[x->quant_axis] != x->n_scales))
    return el_defer(c, "DEQUANTIZE per-channel scales");
  return 0;
}

int el_prepare_same(el_compiler *c, el_cnode *node) {
  int status = check_operands(c, node, 1, 1, 0);
  if (status) return status;
  const el_ctensor *x = input_of(c, node, 0), *out = output_of(c, node);
  switch (node->builtin) {
    case EL_B_RELU: case EL_B_RELU6: case EL_B_RELU_N1_TO_1: case EL_B_RELU_0_TO_1: case EL_B_LOGISTIC:
    case EL_B_TANH: case EL_B_HARD_SWISH: case EL_B_LEAKY_RELU: case EL_B_GELU: case EL_B_ELU:
      status = check_activation(c, node);
      break;
    case EL_B_SOFTMAX: status = check_softmax(c, x, out); break;
    case EL_B_QUANTIZE: status = check_quantize(c, x, out); break;
    case EL_B_DEQUANTIZE: status = check_dequantize(c, x, out); break;
    default: return el_defer(c, "op %d is not shaped as its input", node->builtin);
  }
  return status ? status : set_output(c, node, x->rank, x->dims);
}

/* ---- MEAN (ops/_reduce.py) */

int el_prepare_mean(el_compiler *c, el_cnode *node) {
  int64_t keep, axes[EL_MAX_RANK * 4];
  int n_axes, status = check_operands(c, node, 2, 2, 0);
  if (!status) status = require_options(c, node, OPT_REDUCER);
  if (!status) status = el_opt_int(c, node, REDUCER_KEEP_DIMS, &keep);
  if (status) return status;
  const el_ctensor *x = input_of(c, node, 0), *axis = input_of(c, node, 1), *out = output_of(c, node);
  if (x->type != EL_T_FLOAT32 && x->type != EL_T_INT8 && x->type != EL_T_UINT8)
    return el_defer(c, "MEAN type %d", x->type);
  if ((axis->type != EL_T_INT32 && axis->type != EL_T_INT64) || out->type != x->type || x->rank < 1)
    return el_defer(c, "MEAN axes / output type / scalar input");
  if (x->type != EL_T_FLOAT32 && (!has_quantization(x) || !has_quantization(out)))
    return el_defer(c, "MEAN without quantization");
  if ((status = constant_ints(c, node, 1, axes, EL_MAX_RANK * 4, &n_axes))) return status;
  int reduced[EL_MAX_RANK] = {0};
  for (int k = 0; k < n_axes; k++) {
    if (axes[k] < -x->rank || axes[k] >= x->rank) return el_defer(c, "MEAN axis out of range");
    reduced[axes[k] < 0 ? axes[k] + x->rank : axes[k]] = 1;
  }
  int64_t dims[EL_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < x->rank; d++) {
    if (!reduced[d]) dims[rank++] = x->dims[d];
    else if (keep) dims[rank++] = 1;
  }
  return set_output(c, node, rank, dims);
}

/* ---- PAD (ops/pad.py, _shape.padded_shape) */

int el_prepare_pad(el_compiler *c, el_cnode *node) {
  int64_t pairs[2 * EL_MAX_RANK], dims[EL_MAX_RANK];
  int n, status = check_operands(c, node, 2, 2, 0);
  if (status) return status;
  const el_ctensor *x = input_of(c, node, 0), *paddings = input_of(c, node, 1), *out = output_of(c, node);
  if (!(MOVEMENT & T_BIT(x->type)) || out->type != x->type) return el_defer(c, "PAD types");
  if (paddings->type != EL_T_INT32 && paddings->type != EL_T_INT64) return el_defer(c, "PAD paddings type");
  if ((status = check_movement(c, node, 1))) return status;
  if ((status = constant_ints(c, node, 1, pairs, 2 * EL_MAX_RANK, &n))) return status;
  if (n != 2 * x->rank) return el_defer(c, "PAD paddings count");
  for (int d = 0; d < x->rank; d++) {
    if (pairs[2 * d] < 0 || pairs[2 * d + 1] < 0 || pairs[2 * d] >= DIM_LIMIT || pairs[2 * d + 1] >= DIM_LIMIT)
      return el_defer(c, "PAD paddings values");
    dims[d] = x->dims[d] + pairs[2 * d] + pairs[2 * d + 1];
  }
  return set_output(c, node, x->rank, dims);
}

/* ---- CONCATENATION (ops/concatenation.py) */

int el_prepare_concat(el_compiler *c, el_cnode *node) {
  int64_t axis = 0, activation = EL_ACT_NONE;
  int status = check_operands(c, node, 1, EL_C_MAX_IO, 0);
  if (!status && node->options_code != 0) {
    status = require_options(c, node, OPT_CONCAT);
    if (!status) status = el_opt_int(c, node, CONCAT_AXIS, &axis);
    if (!status) status = el_opt_int(c, node, CONCAT_ACTIVATION, &activation);
  }
  if (status) return status;
  const el_ctensor *first = input_of(c, node, 0), *out = output_of(c, node);
  if (!(MOVEMENT & T_BIT(first->type)) || out->type != first->type) return el_defer(c, "CONCATENATION types");
  for (int k = 1; k < node->n_in; k++)
    if (input_of(c, node, k)->type != first->type) return el_defer(c, "CONCATENATION mixes types");
  if (activation != EL_ACT_NONE && first->type != EL_T_FLOAT32) return el_defer(c, "CONCATENATION activation");
  if (first->type == EL_T_INT16) { /* copied raw: only symmetric int16 */
    for (int k = 0; k <= node->n_in; k++)
      if (!zero_points_zero(k < node->n_in ? input_of(c, node, k) : out)) return el_defer(c, "asymmetric int16");
  } else if ((status = check_movement(c, node, node->n_in))) { /* uint8 requantizing defers too */
    return status;
  }
  int rank = first->rank;
  if (axis < -rank || axis >= rank) return el_defer(c, "CONCATENATION axis");
  if (axis < 0) axis += rank;
  int64_t dims[EL_MAX_RANK];
  memcpy(dims, first->dims, sizeof(int64_t) * (size_t)rank);
  for (int k = 1; k < node->n_in; k++) {
    const el_ctensor *t = input_of(c, node, k);
    if (t->rank != rank) return el_defer(c, "CONCATENATION ranks");
    for (int d = 0; d < rank; d++)
      if (d != axis && t->dims[d] != first->dims[d]) return el_defer(c, "CONCATENATION shapes");
    dims[axis] += t->dims[axis];
  }
  return set_output(c, node, rank, dims);
}

/* ---- RESHAPE, SQUEEZE, EXPAND_DIMS (ops/reshape.py, squeeze.py, expand_dims.py) */

/* The vector option of RESHAPE / SQUEEZE (node->vec): none without options; defers when unread. */
static int vector_option(el_compiler *c, const el_cnode *node, int code, int64_t *values, int *n) {
  *n = 0;
  if (node->options_code == 0) return 0;
  int status = require_options(c, node, code);
  if (status) return status;
  if (node->n_vec < 0 || node->n_vec > EL_MAX_RANK) return el_defer(c, "op %d: vector option", node->builtin);
  *n = node->n_vec;
  memcpy(values, node->vec, sizeof(int64_t) * (size_t)*n);
  return 0;
}

/* reshape.shape: the target from the constant int32 shape vector, else options.new_shape. */
static int reshape_dims(el_compiler *c, const el_cnode *node, int64_t *dims, int *rank) {
  const el_ctensor *x = input_of(c, node, 0), *target = input_of(c, node, 1);
  int status;
  if (target != NULL && target->type == EL_T_INT32 && target->rank == 1) {
    status = constant_ints(c, node, 1, dims, EL_MAX_RANK, rank);
  } else {
    status = vector_option(c, node, OPT_RESHAPE, dims, rank);
    if (*rank == 1 && dims[0] == 0) *rank = 0; /* legacy converters wrote [0] for a scalar */
  }
  if (status) return status;
  int64_t count = el_count(x), known = 1;
  int unknown = -1;
  for (int d = 0; d < *rank; d++) {
    if (dims[d] == -1 && unknown < 0) unknown = d;
    else if (dims[d] < 1 || dims[d] >= DIM_LIMIT) return el_defer(c, "RESHAPE target");
    else known *= dims[d];
    if (known > count) return el_defer(c, "RESHAPE target size");
  }
  if (unknown >= 0) dims[unknown] = count / known;
  if (unknown >= 0 ? dims[unknown] * known != count : known != count) return el_defer(c, "RESHAPE size");
  return 0;
}

/* squeeze.shape: the listed size-1 dimensions dropped, every size-1 dimension when none is. */
static int squeeze_dims(el_compiler *c, const el_cnode *node, int64_t *dims, int *rank) {
  const el_ctensor *x = input_of(c, node, 0);
  int64_t axes[EL_MAX_RANK];
  int n_axes, squeezed[EL_MAX_RANK] = {0};
  int status = vector_option(c, node, OPT_SQUEEZE, axes, &n_axes);
  if (status) return status;
  for (int k = 0; k < n_axes; k++) {
    if (axes[k] < -x->rank || axes[k] >= x->rank) return el_defer(c, "SQUEEZE dim out of range");
    int64_t axis = axes[k] < 0 ? axes[k] + x->rank : axes[k];
    if (x->dims[axis] != 1) return el_defer(c, "SQUEEZE of a dimension above 1");
    squeezed[axis] = 1;
  }
  *rank = 0;
  for (int d = 0; d < x->rank; d++)
    if (n_axes ? !squeezed[d] : x->dims[d] != 1) dims[(*rank)++] = x->dims[d];
  return 0;
}

static int expand_dims(el_compiler *c, const el_cnode *node, int64_t *dims, int *rank) {
  const el_ctensor *x = input_of(c, node, 0), *axis_t = input_of(c, node, 1);
  int64_t axis;
  int n;
  if (axis_t == NULL || (axis_t->type != EL_T_INT32 && axis_t->type != EL_T_INT64))
    return el_defer(c, "EXPAND_DIMS axis type");
  int status = constant_ints(c, node, 1, &axis, 1, &n);
  if (status) return status;
  int64_t position = axis < 0 ? axis + x->rank + 1 : axis;
  if (position < 0 || position > x->rank || x->rank >= EL_MAX_RANK) return el_defer(c, "EXPAND_DIMS axis");
  *rank = 0;
  for (int d = 0; d <= x->rank; d++) {
    if (d == position) dims[(*rank)++] = 1;
    if (d < x->rank) dims[(*rank)++] = x->dims[d];
  }
  return 0;
}

int el_prepare_reshape(el_compiler *c, el_cnode *node) {
  int64_t dims[EL_MAX_RANK];
  int rank = 0, status;
  switch (node->builtin) {
    case EL_B_RESHAPE: status = check_operands(c, node, 1, 2, 1u << 1); break;
    case EL_B_SQUEEZE: status = check_operands(c, node, 1, 1, 0); break;
    case EL_B_EXPAND_DIMS: status = check_operands(c, node, 2, 2, 0); break;
    default: return el_defer(c, "op %d is no reshape", node->builtin);
  }
  if (status) return status;
  const el_ctensor *x = input_of(c, node, 0), *out = output_of(c, node);
  if (!(MOVEMENT & T_BIT(x->type)) || out->type != x->type) return el_defer(c, "reshape types");
  if ((status = check_movement(c, node, 1))) return status;
  if (node->builtin == EL_B_RESHAPE) status = reshape_dims(c, node, dims, &rank);
  else if (node->builtin == EL_B_SQUEEZE) status = squeeze_dims(c, node, dims, &rank);
  else status = expand_dims(c, node, dims, &rank);
  return status ? status : set_output(c, node, rank, dims);
}
