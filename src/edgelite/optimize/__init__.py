"""Model optimizations: post-training quantization (`edgelite.quantize`)."""
