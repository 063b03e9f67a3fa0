/* Microkernel signatures, their declarations (generated from each family's manifest) and the
 * dispatch table that start-up fills from CPU flags. See ../README.md for the naming rule. */
#ifndef EL_KERNELS_H
#define EL_KERNELS_H

#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#define EL_ARCH_X86 1
#else
#define EL_ARCH_X86 0
#endif
#if defined(__aarch64__)
#define EL_ARCH_ARM64 1
#else
#define EL_ARCH_ARM64 0
#endif

/* Dispatch levels of the target architecture, lowest first; a kernel of level L runs only when
 * the CPU has L and the cap allows it. x86: avx512 (F/BW/VL/DQ) takes the float32
 * kernels, avx512vnni the int8 ones. Arm: neon (ASIMD), neondot (ASIMD + the dot product). */
#if EL_ARCH_X86
enum el_isa { EL_ISA_scalar = 0, EL_ISA_avx2 = 1, EL_ISA_avx512 = 2, EL_ISA_avx512vnni = 3, EL_ISA_COUNT };
#elif EL_ARCH_ARM64
enum el_isa { EL_ISA_scalar = 0, EL_ISA_neon = 1, EL_ISA_neondot = 2, EL_ISA_COUNT };
#else
enum el_isa { EL_ISA_scalar = 0, EL_ISA_COUNT };
#endif

/* gemm: c[mr x nc] = clamp(a[mr x kc] * w + bias). w is packed in panels of EL_GEMM_NR columns,
 * each panel [bias EL_GEMM_NR][kc rows x EL_GEMM_NR]; the last panel is zero-padded. a_stride and
 * c_stride count floats. mr <= the kernel's MR (the manifest's arg). */
#define EL_GEMM_NR 16
typedef void el_gemm_fn(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride,
                        const float *w, float *c, size_t c_stride, float lo, float hi);

/* conv: the gemm above with A rows that are evenly spaced input windows: A(r, j*seg_len + i) =
 * seg[j][r*a_stride + i] for the `segments` pieces of a window (kc = segments x seg_len), so the
 * interior pixels of a convolution need no im2col. mr <= the kernel's MR (the manifest's arg). */
typedef void el_conv_fn(size_t mr, size_t nc, size_t segments, size_t seg_len, const float *const *seg,
                        size_t a_stride, const float *w, float *c, size_t c_stride, float lo, float hi);

/* dwconv: for each of `pixels` outputs, out[p*channels + c] = clamp(bias[c] +
 * sum_t in(p, t)[c] * w[(1 + t)*channels + c]). w = [bias C][taps x C]. With pixel_stride 0,
 * in(p, t) = input[p*taps + t] (an indirection buffer); otherwise input holds pixel 0's taps and
 * in(p, t) = input[t] + p*pixel_stride (a row of evenly spaced windows). The manifest's arg is the
 * number of taps a kernel is specialised for (0: any). */
typedef void el_dwconv_fn(size_t taps, size_t channels, size_t pixels, const float **input, size_t pixel_stride,
                          const float *w, float *out, float lo, float hi);

/* vbinary: y[i] = clamp(a[i*sa] (op) b[i*sb]) for i < n; sa, sb are 0 or 1. */
/* PRELU: a >= 0 ? a : a * b (NaN takes the product, as the reference's np.where). MAX: a > b ? a : b,
 * MIN: a < b ? a : b (TFLite's; NaN in a yields b). */
enum el_binary_op {
  EL_BIN_ADD = 0, EL_BIN_SUB = 1, EL_BIN_MUL = 2, EL_BIN_PRELU = 3, EL_BIN_DIV = 4, EL_BIN_MAX = 5,
  EL_BIN_MIN = 6, EL_BIN_COUNT
};
typedef void el_vbinary_fn(int op, size_t n, const float *a, size_t sa, const float *b, size_t sb,
                           float *y, float lo, float hi);

/* vunary: y[i] = f(x[i]); CLAMP uses lo/hi (NaN and -0.0 pass through, as TFLite's kernels).
 * GELU: 0.5 x erfc(-x / sqrt 2); GELU_TANH: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)));
 * LEAKY: x > 0 ? x : x * lo (lo = alpha). */
enum el_unary_op {
  EL_UN_CLAMP = 0, EL_UN_HSWISH = 1, EL_UN_SIGMOID = 2, EL_UN_TANH = 3, EL_UN_GELU = 4, EL_UN_GELU_TANH = 5,
  EL_UN_LEAKY = 6, EL_UN_COUNT
};
typedef void el_vunary_fn(int op, size_t n, const float *x, float *y, float lo, float hi);

/* ibilinear: one RESIZE_BILINEAR output pixel, out[c] = t0*(1-dy)*(1-dx) + b0*dy*(1-dx) +
 * t1*(1-dy)*dx + b1*dy*dx (t: top row, b: bottom row; 0: left column, 1: right), each product and
 * sum rounded in this order, as edgelite's reference. */
typedef void el_ibilinear_fn(size_t channels, const float *t0, const float *t1, const float *b0,
                             const float *b1, float dy, float dx, float *out);

/* pool: one output pixel of a pooling op over `taps` input pixels (pointers to `channels` floats):
 * acc = (first ? -inf or 0 : out) folded with every tap (MAX: v > acc ? v : acc; AVG: acc + v),
 * then out = last ? clamp(MAX ? acc : acc * scale) : acc. Windows run in chunks of taps. */
enum el_pool_op { EL_POOL_MAX = 0, EL_POOL_AVG = 1 };
typedef void el_pool_fn(int op, size_t taps, size_t channels, const float **input, float *out, int first,
                        int last, float scale, float lo, float hi);

/* scopy: y[i] = x[i * stride] for i < n (stride in elements, may be negative or 0). */
typedef void el_scopy_fn(size_t n, const float *x, ptrdiff_t stride, float *y);

/* transpose: y[c * y_stride + r] = x[r * x_stride + c] for r < rows, c < cols (strides in floats). */
typedef void el_transpose_fn(size_t rows, size_t cols, const float *x, size_t x_stride, float *y, size_t y_stride);

/* raddstoreexp: y[i] = exp((x[i] - max) * beta) for i < n; returns the sum of the y[i]. */
typedef float el_raddstoreexp_fn(size_t n, const float *x, float max, float beta, float *y);

#include "el_qkernels.h" /* the int8 families' signatures, layouts and dispatch slots */
#include "el_hkernels.h" /* the hybrid (float32 x int8) families' */

/* Declarations: every manifest line names a function el_<dtype>_<kernel>_<isa>. */
#define EL_UKERNEL(family, dtype, kernel, isa, arg) el_##family##_fn el_##dtype##_##kernel##_##isa;
#include "../kernels/manifest.inc"
#undef EL_UKERNEL

/* The kernels chosen at start-up (or after el_set_isa_cap). */
typedef struct {
  el_gemm_fn *gemm;
  size_t gemm_mr;
  el_conv_fn *conv;
  size_t conv_mr;
  el_dwconv_fn *dwconv_any;
  el_dwconv_fn *dwconv9;
  el_dwconv_fn *dwconv25;
  el_vbinary_fn *vbinary;
  el_vunary_fn *vunary;
  el_ibilinear_fn *ibilinear;
  el_raddstoreexp_fn *raddstoreexp;
  el_pool_fn *pool;
  el_scopy_fn *scopy;
  el_transpose_fn *transpose;
} el_ukernels;

extern el_ukernels el_kernels;
int el_isa_supported(int isa); /* the CPU has it */
int el_isa_active(void);       /* highest level in use */
void el_set_isa_cap(int isa);  /* cap the level (clamped to what the CPU has) and re-dispatch */
void el_dispatch_init(void);
const char *el_isa_name(int isa);

#endif
