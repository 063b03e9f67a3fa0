"""The Arm (AArch64) kernels: cross-compiled with Debian's aarch64-linux-gnu-gcc and run under qemu-aarch64.

tests/native/arm/test_neon_kernels.c runs every NEON kernel of the manifests against the scalar
kernel of its slot (int8 bit-exact, float32 within 1e-5 relative) and checks that dispatch picks
the best kernel allowed by the cap, and runs a small int8 program through the engine (threads
included) at the cap against the scalar level. Here it is built statically with the whole engine (every .c
but the CPython binding) at -O2 -Werror and run once per level cap, and once on a CPU model
without the dot product. Needs: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "src" / "edgelite" / "native"
DRIVER = ROOT / "tests" / "native" / "arm" / "test_neon_kernels.c"
CC, QEMU = "aarch64-linux-gnu-gcc", "qemu-aarch64"
LEVELS = ["scalar", "neon", "neondot"]  # the Arm dispatch levels, lowest first
# setup.py's flags, plus -Werror
FLAGS = ["-std=c11", "-O2", "-fno-math-errno", "-Wall", "-Wextra", "-Werror", "-pthread"]

pytestmark = pytest.mark.skipif(
    shutil.which(CC) is None or shutil.which(QEMU) is None,
    reason=f"needs the aarch64 cross compiler ({CC}) and qemu-user ({QEMU}): apt-get install "
    "gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user (.ci/run does it when it can)",
)


def engine_sources() -> list[Path]:
    """Every C file of the engine except the CPython bindings (_engine.c, _pack.c, _reader.c, ...) and the
    compiler (compile*.c), which works on Python objects."""
    return sorted(p for p in NATIVE.rglob("*.c") if not p.name.startswith(("_", "compile")))


def arm_manifest() -> list[tuple[str, str]]:
    """(file stem, level) of every manifest line compiled for AArch64 (inside `#if EL_ARCH_ARM64`)."""
    lines = []
    for inc in sorted((NATIVE / "kernels").glob("*/*.inc")):
        arch = None
        for line in inc.read_text().splitlines():
            if line.startswith("#if"):
                arch = "arm" if "EL_ARCH_ARM64" in line else "other"
            elif line.startswith("#endif"):
                arch = None
            match = re.match(r"EL_UKERNEL\((\w+), (\w+), (\w+), (\w+), (\d+)\)", line)
            if match and arch in (None, "arm"):
                _, dtype, kernel, isa, _ = match.groups()
                lines.append((f"{dtype}-{kernel}-{isa}", isa))
    return lines


def shared_build_dir(tmp_path_factory) -> Path:
    """A build folder all xdist workers of this session share (each source set builds once)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    digest = hashlib.sha256()
    for path in [*sorted(NATIVE.rglob("*.[ch]")), *sorted(NATIVE.rglob("*.inc")), DRIVER]:
        digest.update(path.read_bytes())
    return root / f"arm_build_{digest.hexdigest()[:16]}"


@pytest.fixture(scope="module")
def objects(tmp_path_factory) -> tuple[Path, dict]:
    """The engine compiled for AArch64 with warnings as errors (one object per source), and the
    test driver linked statically with it; built under a lock by the first worker."""
    out = shared_build_dir(tmp_path_factory)
    out.mkdir(parents=True, exist_ok=True)
    with open(out.parent / "arm_build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = out / "build.json"
        if not record.exists():
            compiled = subprocess.run([CC, *FLAGS, "-c", *map(str, engine_sources())], cwd=out,
                                      capture_output=True, text=True, timeout=300)
            result = {"returncode": compiled.returncode, "stderr": compiled.stderr, "link": ""}
            if compiled.returncode == 0:
                objs = [str(p) for p in sorted(out.glob("*.o"))]
                exe = str(out / "test_neon_kernels")
                linked = subprocess.run([CC, *FLAGS, "-static", str(DRIVER), *objs, "-lm", "-o", exe],
                                        capture_output=True, text=True, timeout=300)
                result["link"] = "" if linked.returncode == 0 else linked.stderr or "link failed"
            record.write_text(json.dumps(result))
    return out, json.loads(record.read_text())


@pytest.fixture(scope="module")
def driver(objects) -> Path:
    out, result = objects
    if result["returncode"] != 0:
        pytest.fail(f"the AArch64 build of the engine failed:\n{result['stderr']}")
    assert result["link"] == "", result["link"]
    return out / "test_neon_kernels"


def test_engine_cross_builds_without_warnings(objects):
    out, result = objects
    assert result["returncode"] == 0 and result["stderr"] == "", result["stderr"]
    assert len(list(out.glob("*.o"))) == len(engine_sources())


def test_every_arm_kernel_file_is_listed():
    listed = {stem for stem, _ in arm_manifest()}
    on_disk = {p.stem for p in (NATIVE / "kernels").glob("*/*-neon*.c")}
    assert on_disk <= listed, f"Arm kernel files missing from the manifests: {sorted(on_disk - listed)}"


@pytest.mark.parametrize(("cpu", "cap", "how"), [("max", "scalar", "arg"), ("max", "neon", "arg"),
                                                 ("max", "neondot", "arg"), ("cortex-a53", "neondot", "arg"),
                                                 ("max", "neon", "env")])
def test_arm_kernels_match_scalar(driver, cpu, cap, how):
    """qemu's `max` CPU has the dot product; the Cortex-A53 has plain NEON only (dispatch falls back).
    `how`: the cap as the driver's argument (el_set_isa_cap) or as EDGELITE_ISA (el_dispatch_init)."""
    has = LEVELS[: LEVELS.index(cap) + 1]
    if cpu == "cortex-a53":
        has = [level for level in has if level != "neondot"]
    args, env = ([cap], None) if how == "arg" else ([], {**os.environ, "EDGELITE_ISA": cap})
    run = subprocess.run([QEMU, "-cpu", cpu, str(driver), *args], capture_output=True, text=True, timeout=300,
                         env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    manifest = [(stem, isa) for stem, isa in arm_manifest() if isa != "scalar"]
    expected_active = max((LEVELS.index(isa) for _, isa in manifest if isa in has), default=0)
    assert lines[0] == f"active {LEVELS[expected_active]}"
    assert "ok engine (QGEMM + QDWCONV program, 1 and 3 threads) vs scalar: 2 cases" in lines, run.stdout
    tested = {line.split()[1] for line in lines if line.startswith("ok ")} - {"engine"}
    assert tested == {stem for stem, isa in manifest if isa in has}, run.stdout
    summary = lines[-1]
    assert re.fullmatch(r"summary: \d+ kernels, \d+ cases, 0 untested, 0 failures", summary), run.stdout
