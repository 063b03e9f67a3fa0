"""Builds edgelite's optional native engine (C11, no other toolchain). Everything else is in
pyproject.toml. `optional=True`: without a working C compiler edgelite installs anyway and runs on
the reference executor. AVX2+FMA kernels carry __attribute__((target)), so no per-file flags; on
AArch64 the same list builds the NEON kernels (x86 files compile to nothing there, and vice versa)."""

import os
from glob import glob

from setuptools import Extension, setup

NATIVE = "src/edgelite/native"
sources = [f"{NATIVE}/_engine.c", f"{NATIVE}/engine.c", f"{NATIVE}/dispatch.c", f"{NATIVE}/pool.c",
           f"{NATIVE}/_pack.c", f"{NATIVE}/pack.c", f"{NATIVE}/_slab.c", f"{NATIVE}/slab.c",
           f"{NATIVE}/convert.c", f"{NATIVE}/planner.c",
           f"{NATIVE}/_reader.c", *sorted(glob(f"{NATIVE}/compile*.c")),
           *sorted(glob(f"{NATIVE}/ops_*.c")), *sorted(glob(f"{NATIVE}/kernels/*/*.c"))]
extra = os.environ.get("EDGELITE_CFLAGS", "").split()  # e.g. the sanitizer build in native/README.md
threads = ["-pthread"] if os.name == "posix" else []  # the thread pool (pool.c)

setup(ext_modules=[Extension(
    "edgelite.native._engine", sources=[os.path.relpath(s) for s in sources],
    depends=sorted(glob(f"{NATIVE}/include/*") + glob(f"{NATIVE}/*.inc")
                   + glob(f"{NATIVE}/kernels/**/*.inc", recursive=True)),
    extra_compile_args=["-std=c11", "-O2", "-fno-math-errno", "-Wall", "-Wextra", *threads, *extra],
    extra_link_args=[*threads, *[f for f in extra if f.startswith("-fsanitize")]],
    libraries=["m"] if os.name == "posix" else [], optional=True)])
