"""Whole networks: ResNet- and MobileNet-style blocks end with <= 1 TRANSPOSE per input/output,
the light models of the onnx wheel convert and match onnxruntime, torch modules convert."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import edgelite
from edgelite.frontends.onnx.importer import converters
from tests.frontends.onnx.common import check_onnx, make_model, opcodes, rng_inputs

F = TensorProto.FLOAT
RNG = np.random.default_rng(2)


def require(*op_types: str) -> None:
    missing = sorted(set(op_types) - set(converters()))
    if missing:
        pytest.skip(f"no converter yet for {', '.join(missing)}")


def w(*shape: int, scale: float = 0.3) -> np.ndarray:
    return (scale * RNG.standard_normal(shape)).astype(np.float32)


class Net:
    """Accumulates ONNX nodes and initializers for a hand-built network."""

    def __init__(self) -> None:
        self.nodes, self.inits, self.count = [], {}, 0

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def const(self, value: np.ndarray) -> str:
        name = self.name("w")
        self.inits[name] = value
        return name

    def conv_bn(self, x: str, c_in: int, c_out: int, k: int = 3, stride: int = 1, group: int = 1) -> str:
        weights = self.const(w(c_out, c_in // group, k, k))
        y = self.node("Conv", [x, weights], pads=[k // 2] * 4, strides=[stride, stride], group=group)
        bn = [self.const(1 + w(c_out, scale=0.1)), self.const(w(c_out)), self.const(w(c_out)),
              self.const(1 + np.abs(w(c_out)))]
        return self.node("BatchNormalization", [y, *bn])

    def head(self, x: str, c: int, classes: int = 5) -> str:
        pooled = self.node("GlobalAveragePool", [x])
        flat = self.node("Flatten", [pooled])
        return self.node("Gemm", [flat, self.const(w(classes, c)), self.const(w(classes))], transB=1)


def resnet_block_model() -> onnx.ModelProto:
    net = Net()
    x = net.node("Relu", [net.conv_bn("input", 3, 8)])
    for _ in range(2):
        y = net.node("Relu", [net.conv_bn(x, 8, 8)])
        y = net.conv_bn(y, 8, 8)
        x = net.node("Relu", [net.node("Add", [y, x])])
    down = net.conv_bn(x, 8, 16, k=1, stride=2)
    y = net.conv_bn(net.node("Relu", [net.conv_bn(x, 8, 16, stride=2)]), 16, 16)
    x = net.node("Relu", [net.node("Add", [y, down])])
    net.head(x, 16)
    net.nodes[-1].output[0] = "logits"
    return make_model(net.nodes, [("input", ("N", 3, 16, 16), F)], ["logits"], net.inits)


def mobilenet_block_model() -> onnx.ModelProto:
    net = Net()
    x = net.node("HardSwish", [net.conv_bn("input", 3, 8, stride=2)])
    expanded = net.node("HardSwish", [net.conv_bn(x, 8, 16, k=1)])
    depthwise = net.node("HardSwish", [net.conv_bn(expanded, 16, 16, group=16)])
    squeezed = net.node("GlobalAveragePool", [depthwise])
    fc1 = net.node("Relu", [net.node("Conv", [squeezed, net.const(w(4, 16, 1, 1)), net.const(w(4))])])
    gate = net.node("HardSigmoid", [net.node("Conv", [fc1, net.const(w(16, 4, 1, 1)), net.const(w(16))])],
                    alpha=1 / 6, beta=0.5)
    excited = net.node("Mul", [depthwise, gate])
    projected = net.conv_bn(excited, 16, 8, k=1)
    x = net.node("Add", [projected, x])
    net.head(x, 8)
    net.nodes[-1].output[0] = "logits"
    return make_model(net.nodes, [("input", (1, 3, 16, 16), F)], ["logits"], net.inits, opset=17)


BLOCK_OPS = ("Conv", "BatchNormalization", "Relu", "Add", "GlobalAveragePool", "Flatten", "Gemm")


@pytest.mark.parametrize("build,extra", [(resnet_block_model, ()),
                                         (mobilenet_block_model, ("HardSwish", "HardSigmoid", "Mul"))],
                         ids=["resnet", "mobilenet"])
def test_cnn_blocks_keep_at_most_one_transpose_per_io(build, extra):
    require(*BLOCK_OPS, *extra)
    model = build()
    converted = check_onnx(model, rng_inputs({"input": (1, 3, 16, 16)}))
    ops = opcodes(converted)
    assert ops.count("TRANSPOSE") <= 1, ops  # the input's NCHW->NHWC; the output is (N, classes)
    assert "MUL" not in ops or build is mobilenet_block_model  # batch norms folded into the convs
    assert "RELU" not in ops, ops  # fused into producers
    nhwc = edgelite.convert(model, nhwc_io=True)
    assert "TRANSPOSE" not in opcodes(nhwc)


def test_torch_module_converts():
    torch = pytest.importorskip("torch")
    require("Conv", "Relu", "Add", "GlobalAveragePool", "Flatten", "Gemm", "BatchNormalization")
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
            self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = torch.relu(self.bn2(self.conv2(y)) + y)
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1))

    torch.manual_seed(0)
    module = Block().eval()
    x = torch.randn(1, 3, 12, 12)
    converted = edgelite.convert(module, example_inputs=(x,))
    interpreter = edgelite.Interpreter(model_content=converted.to_bytes())
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x.numpy())
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    with torch.no_grad():
        np.testing.assert_allclose(got, module(x).numpy(), rtol=1e-4, atol=1e-4)
