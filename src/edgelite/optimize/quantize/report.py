"""What a quantization did: per operator, quantized or kept float and why; sizes before and after."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class OpDecision:
    """One operator of the float model (subgraph, index in it) and what became of it."""

    subgraph: int
    index: int
    opcode: str
    output: str  # name of its first output tensor
    quantized: bool
    kind: str  # e.g. "int8", "int16x8", "int8 weights (hybrid)", "float16 weights", "float"
    reason: str  # why it stays float, or a note about how it was quantized


@dataclass
class SqnrStep:
    """One step of `target_sqnr`'s search: the layer moved to the fallback (None at step 0, the
    fully quantized model), how many candidates were tried for it, and the output SQNR after it."""

    index: int | None  # node index in subgraph 0 of the float model
    opcode: str | None
    output: str | None  # its first output tensor
    tried: int  # candidate models built and measured in this step
    sqnr_db: float  # model output SQNR (worst output) after this step


@dataclass
class QuantizationReport:
    """Returned by `edgelite.quantize(..., return_report=True)` next to the quantized Model."""

    mode: str
    per_channel: bool
    calibration: str | None  # the range method, None for modes without calibration
    samples: int  # calibration samples seen
    size_before: int  # bytes of the float model as edgelite writes it
    size_after: int  # bytes of the quantized model
    ops: list[OpDecision] = field(default_factory=list)
    inserted: dict[str, int] = field(default_factory=dict)  # op name -> nodes added (QUANTIZE, ...)
    notes: list[str] = field(default_factory=list)
    target_sqnr: float | None = None  # dB, when asked for
    fallback: str | None = None  # "float" or "int16": what sensitive layers became
    steps: list[SqnrStep] = field(default_factory=list)  # the search, step 0 = fully quantized

    @property
    def sqnr_db(self) -> float | None:
        """Output SQNR of the returned model (measured only with target_sqnr)."""
        return max(step.sqnr_db for step in self.steps) if self.steps else None

    @property
    def quantized(self) -> list[OpDecision]:
        return [op for op in self.ops if op.quantized]

    @property
    def kept_float(self) -> list[OpDecision]:
        return [op for op in self.ops if not op.quantized]

    @property
    def ratio(self) -> float:
        """size_before / size_after (4x for large float32 models quantized to int8)."""
        return self.size_before / self.size_after if self.size_after else 0.0

    def summary(self) -> str:
        """One line: counts and sizes."""
        inserted = ", ".join(f"{n} {name}" for name, n in sorted(self.inserted.items())) or "none"
        return (f"{self.mode}: {len(self.quantized)}/{len(self.ops)} ops quantized; inserted: "
                f"{inserted}; {self.size_before:,} -> {self.size_after:,} bytes ({self.ratio:.2f}x)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        lines = [self.summary()]
        for op in self.ops:
            state = op.kind if op.quantized else "float"
            lines.append(f"  [{op.subgraph}:{op.index}] {op.opcode:<20} {state:<24} {op.reason}")
        for k, step in enumerate(self.steps):
            moved = "fully quantized" if step.index is None else \
                f"[0:{step.index}] {step.opcode} -> {self.fallback} (best of {step.tried} tried)"
            lines.append(f"  step {k}: {moved}; output SQNR {step.sqnr_db:.2f} dB")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)
