"""ONNX op converters, one module per op family; each exports CONVERTERS (see ../README.md)."""
