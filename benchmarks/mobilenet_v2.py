"""MobileNetV2 (Sandler et al. 2018) defined in torch, converted by edgelite's ONNX converter.

    python benchmarks/mobilenet_v2.py OUT_DIR [--width 1.0] [--resolution 224]

writes mobilenet_v2_<width>_<resolution>_float32.tflite and ..._int8.tflite (random weights, int8
calibrated on random images): the issue's benchmark models, built without TensorFlow or a model hub.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import edgelite

# (expansion t, output channels c, repeats n, first stride s) per stage, from the paper's table 2.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _channels(count: float) -> int:
    """Channels rounded to a multiple of 8, never below 90% of the exact count (as the reference code)."""
    rounded = max(8, int(count + 4) // 8 * 8)
    return rounded + 8 if rounded < 0.9 * count else rounded


def build_torch(width: float = 1.0, classes: int = 1000, seed: int = 0):
    """The network as a torch.nn.Module in eval mode, weights drawn with seed (BN folded later)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    def conv_bn(cin: int, cout: int, kernel: int, stride: int, groups: int = 1, relu: bool = True) -> list:
        conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False)
        layers = [conv, nn.BatchNorm2d(cout)]
        return layers + [nn.ReLU6()] if relu else layers

    class InvertedResidual(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int, expansion: int) -> None:
            super().__init__()
            hidden = cin * expansion
            layers = conv_bn(cin, hidden, 1, 1) if expansion != 1 else []
            layers += conv_bn(hidden, hidden, 3, stride, groups=hidden)
            layers += conv_bn(hidden, cout, 1, 1, relu=False)
            self.body = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.body(x) if self.residual else self.body(x)

    cin = _channels(32 * width)
    layers = conv_bn(3, cin, 3, 2)
    for expansion, channels, repeats, stride in STAGES:
        cout = _channels(channels * width)
        for i in range(repeats):
            layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expansion))
            cin = cout
    last = _channels(1280 * max(1.0, width))
    layers += conv_bn(cin, last, 1, 1) + [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(last, classes)]
    model = nn.Sequential(*layers)
    for module in model.modules():  # non-trivial BN statistics, so folding them is exercised
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def build(width: float = 1.0, resolution: int = 224, seed: int = 0) -> edgelite.Model:
    """The float32 .tflite model (NHWC input 1 x resolution x resolution x 3)."""
    import torch

    example = torch.zeros(1, 3, resolution, resolution)
    return edgelite.convert(build_torch(width, seed=seed), example_inputs=(example,), nhwc_io=True)


def quantize_int8(model: edgelite.Model, resolution: int = 224, samples: int = 8,
                  seed: int = 0) -> edgelite.Model:
    """Full-integer int8 (float I/O), calibrated on random images in [-1, 1]."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (samples, 1, resolution, resolution, 3)).astype(np.float32)
    return edgelite.quantize(model, "int8", calibration_data=list(images), progress=False)


def write(out_dir: Path, width: float = 1.0, resolution: int = 224) -> list[Path]:
    """Write the float32 and int8 models into out_dir; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"mobilenet_v2_{width:g}_{resolution}"
    float_model = build(width, resolution)
    paths = [out_dir / f"{stem}_float32.tflite", out_dir / f"{stem}_int8.tflite"]
    paths[0].write_bytes(float_model.to_bytes())
    paths[1].write_bytes(quantize_int8(float_model, resolution).to_bytes())
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--resolution", type=int, default=224)
    args = parser.parse_args()
    for path in write(args.out_dir, args.width, args.resolution):
        print(f"{path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
