"""What `edgelite benchmark` reads from the operating system: resident memory, energy counters, CPU.

Energy comes only from a real counter, Linux powercap/RAPL (`energy_uj` of each package zone);
where none is readable the reason is returned instead of a number, never an estimate.
"""

from __future__ import annotations

import datetime
import os
import platform
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

POWERCAP_ROOT = Path("/sys/class/powercap")


def _status_kib(field: str) -> int | None:
    """A `VmXXX:  1234 kB` line of /proc/self/status in bytes (None where there is no /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def current_rss() -> int | None:
    """Resident memory of this process now, in bytes."""
    return _status_kib("VmRSS")


def peak_rss() -> int:
    """Peak resident memory of this process so far (VmHWM, else getrusage's ru_maxrss), in bytes."""
    peak = _status_kib("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024  # macOS reports bytes, Linux KiB


@dataclass
class _Zone:
    name: str
    energy: Path
    wrap_uj: int


class EnergyCounter:
    """Package energy from RAPL zones under `root` (intel-rapl:N, also used for AMD by Linux).

    `available` is False and `reason` says why when no zone's counter can be read.
    """

    def __init__(self, root: Path = POWERCAP_ROOT) -> None:
        self.zones: list[_Zone] = []
        self.reason = ""
        pattern = "intel-rapl:*"
        candidates = sorted(p for p in root.glob(pattern) if p.name.count(":") == 1) if root.is_dir() else []
        problems = []
        for zone in candidates:
            try:
                (zone / "energy_uj").read_text()
                wrap = int((zone / "max_energy_range_uj").read_text())
            except (OSError, ValueError) as error:
                problems.append(f"{zone / 'energy_uj'}: {getattr(error, 'strerror', None) or error}")
                continue
            name = (zone / "name").read_text().strip() if (zone / "name").is_file() else zone.name
            self.zones.append(_Zone(name, zone / "energy_uj", wrap))
        if not self.zones:
            where = f"{root}/{pattern}/energy_uj"
            self.reason = (f"energy cannot be measured on this machine: {problems[0]} is not readable"
                           if problems else f"energy cannot be measured on this machine: no {where}")

    @property
    def available(self) -> bool:
        return bool(self.zones)

    def read(self) -> list[int]:
        """The counters now, in microjoules (one per zone)."""
        return [int(zone.energy.read_text()) for zone in self.zones]

    def joules_between(self, before: list[int], after: list[int]) -> float:
        """Energy used between two readings, summed over zones, counter wrap-around handled."""
        total = 0
        for zone, start, end in zip(self.zones, before, after, strict=True):
            total += end - start if end >= start else end + zone.wrap_uj - start
        return total / 1e6


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (else platform.processor())."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine() -> dict[str, object]:
    """CPU, core counts, load (1/5/15 min), OS and Python of the machine a benchmark runs on, and the date."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu_model(), "logical_cores": os.cpu_count(), "usable_cores": usable, "load_average": load,
            "machine": platform.machine(), "os": platform.platform(terse=True),
            "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
