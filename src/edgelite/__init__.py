"""edgelite: TensorFlow Lite rebuilt Python-first."""

from edgelite.errors import ConversionError, EdgeliteError, ModelError, UnsupportedOpError
from edgelite.model.ir import Model
from edgelite.model.reader import load
from edgelite.ops.registry import register_op
from edgelite.runtime.interpreter import Interpreter

__all__ = [
    "ConversionError",
    "EdgeliteError",
    "Interpreter",
    "Model",
    "ModelError",
    "UnsupportedOpError",
    "load",
    "register_op",
]
__version__ = "0.1.0"
