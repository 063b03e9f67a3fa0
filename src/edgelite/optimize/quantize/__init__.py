"""Post-training quantization: `quantize` (api.py), calibration (calibrate.py), one module per
mode (modes/), and the report of what was done (report.py)."""

from edgelite.optimize.quantize.api import QuantizationError, quantize
from edgelite.optimize.quantize.report import OpDecision, QuantizationReport

__all__ = ["OpDecision", "QuantizationError", "QuantizationReport", "quantize"]
