#!/bin/sh
# Executed-instruction counts of the Arm kernels vs the scalar ones, under qemu (see count_instructions.c).
set -eu
cd "$(dirname "$0")/../../.."
N=src/edgelite/native
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
aarch64-linux-gnu-gcc -std=c11 -O2 -fno-math-errno -static tests/native/arm/count_instructions.c \
  "$N"/kernels/*/*.c -lm -o "$out/count"
count() { qemu-aarch64 -singlestep -d exec,nochain -D "$out/log" "$out/count" "$@" >/dev/null; grep -c '^Trace' "$out/log"; }
for k in f32-gemm-scalar f32-gemm-neon qs8-gemm-scalar qs8-gemm-neon qs8-gemm-neondot \
         f32-dwconv9-scalar f32-dwconv9-neon qs8-dwconv-scalar qs8-dwconv-neon; do
  echo "$k $(( $(count "$k" run) - $(count "$k") ))"
done
