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

/* Dispatch levels, lowest first; a kernel of level L runs only when the CPU has L and the cap allows it. */
enum el_isa { EL_ISA_scalar = 0, EL_ISA_avx2 = 1, EL_ISA_COUNT };

/* gemm: c[mr x nc] = clamp(a[mr x kc] * w + bias). w is packed in panels of EL_GEMM_NR columns,
 * each panel [bias EL_GEMM_NR][kc rows x EL_GEMM_NR]; the last panel is zero-padded. a_stride and
 * c_stride count floats. mr <= the kernel's MR (the manifest's arg). */
#define EL_GEMM_NR 16
typedef void el_gemm_fn(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride,
                        const float *w, float *c, size_t c_stride, float lo, float hi);

/* dwconv: for each of `pixels` outputs, out[p*channels + c] = clamp(bias[c] +
 * sum_t input[p*taps + t][c] * w[(1 + t)*channels + c]). w = [bias C][taps x C]. The manifest's
 * arg is the number of taps a kernel is specialised for (0: any). */
typedef void el_dwconv_fn(size_t taps, size_t channels, size_t pixels, const float **input,
                          const float *w, float *out, float lo, float hi);

/* vbinary: y[i] = clamp(a[i*sa] (op) b[i*sb]) for i < n; sa, sb are 0 or 1. */
enum el_binary_op { EL_BIN_ADD = 0, EL_BIN_SUB = 1, EL_BIN_MUL = 2, EL_BIN_COUNT };
typedef void el_vbinary_fn(int op, size_t n, const float *a, size_t sa, const float *b, size_t sb,
                           float *y, float lo, float hi);

/* vunary: y[i] = f(x[i]); CLAMP uses lo/hi (NaN and -0.0 pass through, as TFLite's kernels). */
enum el_unary_op { EL_UN_CLAMP = 0, EL_UN_HSWISH = 1, EL_UN_SIGMOID = 2, EL_UN_COUNT };
typedef void el_vunary_fn(int op, size_t n, const float *x, float *y, float lo, float hi);

/* Declarations: every manifest line names a function el_<dtype>_<kernel>_<isa>. */
#define EL_UKERNEL(family, dtype, kernel, isa, arg) el_##family##_fn el_##dtype##_##kernel##_##isa;
#include "../kernels/manifest.inc"
#undef EL_UKERNEL

/* The kernels chosen at start-up (or after el_set_isa_cap). */
typedef struct {
  el_gemm_fn *gemm;
  size_t gemm_mr;
  el_dwconv_fn *dwconv_any;
  el_dwconv_fn *dwconv9;
  el_vbinary_fn *vbinary;
  el_vunary_fn *vunary;
} el_ukernels;

extern el_ukernels el_kernels;
int el_isa_supported(int isa); /* the CPU has it */
int el_isa_active(void);       /* highest level in use */
void el_set_isa_cap(int isa);  /* cap the level (clamped to what the CPU has) and re-dispatch */
void el_dispatch_init(void);
const char *el_isa_name(int isa);

#endif
