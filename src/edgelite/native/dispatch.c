/* Dispatch: fill el_kernels once from CPU flags, walking the manifest from the lowest ISA up so
 * the best supported (and allowed) kernel of each slot wins. EDGELITE_ISA caps the level. */
#include <stdlib.h>
#include <string.h>

#include "include/el_kernels.h"

#if EL_ARCH_ARM64 && defined(__linux__)
#include <sys/auxv.h>
#endif

el_ukernels el_kernels;
static int el_cap = EL_ISA_COUNT - 1;
static int el_active = EL_ISA_scalar;

#if EL_ARCH_X86
static const char *const el_isa_names[EL_ISA_COUNT] = {"scalar", "avx2", "avx512", "avx512vnni"};
#elif EL_ARCH_ARM64
static const char *const el_isa_names[EL_ISA_COUNT] = {"scalar", "neon", "neondot"};
#else
static const char *const el_isa_names[EL_ISA_COUNT] = {"scalar"};
#endif

const char *el_isa_name(int isa) { return isa >= 0 && isa < EL_ISA_COUNT ? el_isa_names[isa] : "?"; }

int el_isa_supported(int isa) {
  if (isa == EL_ISA_scalar) return 1;
#if EL_ARCH_X86 && defined(__GNUC__)
  if (isa == EL_ISA_avx2) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  if (isa == EL_ISA_avx512) /* AVX-512 F/BW/VL/DQ (float32 kernels) */
    return el_isa_supported(EL_ISA_avx2) && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq");
  if (isa == EL_ISA_avx512vnni) /* AVX-512 F/BW/VL + VNNI (int8 kernels) */
    return el_isa_supported(EL_ISA_avx2) && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vnni");
#endif
#if EL_ARCH_ARM64 && defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  if (isa == EL_ISA_neon) return (hwcap & HWCAP_ASIMD) != 0;
  if (isa == EL_ISA_neondot) return (hwcap & HWCAP_ASIMD) != 0 && (hwcap & HWCAP_ASIMDDP) != 0;
#elif EL_ARCH_ARM64
  if (isa == EL_ISA_neon) return 1; /* ASIMD is part of AArch64; the dot product cannot be asked */
#endif
  return 0;
}

int el_isa_active(void) { return el_active; }

static void set_gemm(el_gemm_fn *fn, size_t mr) { el_kernels.gemm = fn; el_kernels.gemm_mr = mr; }
static void set_conv(el_conv_fn *fn, size_t mr) { el_kernels.conv = fn; el_kernels.conv_mr = mr; }
static void set_dwconv(el_dwconv_fn *fn, size_t taps) {
  if (taps == 9) el_kernels.dwconv9 = fn;
  else if (taps == 25) el_kernels.dwconv25 = fn;
  else el_kernels.dwconv_any = fn;
}
static void set_vbinary(el_vbinary_fn *fn, size_t arg) { (void)arg; el_kernels.vbinary = fn; }
static void set_vunary(el_vunary_fn *fn, size_t arg) { (void)arg; el_kernels.vunary = fn; }
static void set_ibilinear(el_ibilinear_fn *fn, size_t arg) { (void)arg; el_kernels.ibilinear = fn; }
static void set_raddstoreexp(el_raddstoreexp_fn *fn, size_t arg) { (void)arg; el_kernels.raddstoreexp = fn; }
static void set_pool(el_pool_fn *fn, size_t arg) { (void)arg; el_kernels.pool = fn; }
static void set_scopy(el_scopy_fn *fn, size_t arg) { (void)arg; el_kernels.scopy = fn; }
static void set_transpose(el_transpose_fn *fn, size_t arg) { (void)arg; el_kernels.transpose = fn; }

static void dispatch(void) {
  memset(&el_kernels, 0, sizeof(el_kernels));
  memset(&el_qkernels, 0, sizeof(el_qkernels));
  el_active = EL_ISA_scalar;
#define EL_UKERNEL(family, dtype, kernel, isa, arg)                                   \
  if (EL_ISA_##isa <= el_cap && el_isa_supported(EL_ISA_##isa)) {                   \
    set_##family(el_##dtype##_##kernel##_##isa, arg);                               \
    if (EL_ISA_##isa > el_active) el_active = EL_ISA_##isa;                         \
  }
#include "kernels/manifest.inc"
#undef EL_UKERNEL
  if (el_kernels.dwconv9 == NULL) el_kernels.dwconv9 = el_kernels.dwconv_any;
  if (el_kernels.dwconv25 == NULL) el_kernels.dwconv25 = el_kernels.dwconv_any;
}

void el_set_isa_cap(int isa) {
  el_cap = isa < 0 ? 0 : isa >= EL_ISA_COUNT ? EL_ISA_COUNT - 1 : isa;
  dispatch();
}

void el_dispatch_init(void) {
  const char *env = getenv("EDGELITE_ISA");
  int cap = EL_ISA_COUNT - 1;
  if (env != NULL && env[0] != '\0') {
    for (int i = 0; i < EL_ISA_COUNT; i++)
      if (strcmp(env, el_isa_names[i]) == 0) cap = i;
  }
  el_set_isa_cap(cap);
}
