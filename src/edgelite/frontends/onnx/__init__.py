"""ONNX (and PyTorch through torch.onnx) to edgelite Model: importer, op converters, passes."""
