"""Networks defined with torch, converted through edgelite.convert(module, example_inputs=...):
the .tflite runs in LiteRT and in edgelite and both match onnxruntime on the exported ONNX."""

from __future__ import annotations

import numpy as np
import pytest

import edgelite
from edgelite.frontends.onnx.graph_io import export_torch

from .common import ATOL, RTOL, edgelite_interpreter, litert_interpreter, opcodes, run_onnxruntime, run_tflite

torch = pytest.importorskip("torch", reason="torch is an optional extra (pip install edgelite[torch])")
nn = torch.nn
pytestmark = [pytest.mark.filterwarnings("ignore:Converting a tensor to a Python boolean"),  # export tracing
              pytest.mark.filterwarnings("ignore:Exporting a model to ONNX with a batch_size")]


def check_torch(module: nn.Module, *example: torch.Tensor) -> edgelite.Model:
    """Convert, then compare LiteRT and edgelite with onnxruntime on the same torch.onnx export."""
    torch.manual_seed(0)
    module.eval()
    converted = edgelite.convert(module, example_inputs=example)
    exported = export_torch(module, example)
    feeds = {i.name: t.numpy() for i, t in zip(exported.graph.input, example, strict=False)}
    expected = run_onnxruntime(exported, feeds)
    with torch.no_grad():
        reference = module(*example)
    flat = [t.numpy() for t in _flatten(reference)]
    for got, want in zip(expected, flat, strict=True):  # the export itself is faithful
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
    data = converted.to_bytes()
    for label, make in (("litert", litert_interpreter), ("edgelite", edgelite_interpreter)):
        results = run_tflite(make(data), feeds)
        assert len(results) == len(expected), label
        for k, (got, want) in enumerate(zip(results, expected, strict=True)):
            assert got.shape == want.shape, f"{label} output {k}: {got.shape} != {want.shape}"
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"{label} output {k}")
    return converted


def _flatten(value):
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten(v)]
    return [value]


def conv_bn(c_in: int, c_out: int, k: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(c_out))


def randomize_bn(module: nn.Module) -> nn.Module:
    """Non-trivial BatchNorm statistics so that folding them is actually checked."""
    generator = torch.Generator().manual_seed(1)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(0.2 * torch.randn(m.num_features, generator=generator))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=generator))
            m.weight.data.copy_(1 + 0.2 * torch.randn(m.num_features, generator=generator))
            m.bias.data.copy_(0.2 * torch.randn(m.num_features, generator=generator))
    return module


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = conv_bn(c_in, c_out, 3, stride), conv_bn(c_out, c_out)
        self.down = conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else nn.Identity()

    def forward(self, x):
        return torch.relu(self.conv2(torch.relu(self.conv1(x))) + self.down(x))


class ResNetish(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 8), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.blocks = nn.Sequential(BasicBlock(8, 8, 1), BasicBlock(8, 16, 2))
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


class MobileNetV3Block(nn.Module):
    """Inverted residual: expand, depthwise, squeeze-excite (hard-sigmoid gate), project."""

    def __init__(self, c: int = 16, expanded: int = 48, squeezed: int = 12) -> None:
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, c, 3, 2), nn.Hardswish())
        self.expand = nn.Sequential(conv_bn(c, expanded, 1), nn.Hardswish())
        self.depthwise = nn.Sequential(conv_bn(expanded, expanded, 3, groups=expanded), nn.Hardswish())
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(expanded, squeezed, 1), nn.ReLU(),
                                nn.Conv2d(squeezed, expanded, 1), nn.Hardsigmoid())
        self.project = conv_bn(expanded, c, 1)
        self.head = nn.Linear(c, 7)

    def forward(self, x):
        x = self.stem(x)
        y = self.depthwise(self.expand(x))
        y = self.project(y * self.se(y)) + x
        return self.head(y.mean((2, 3)))


class Recurrent(nn.Module):
    """An nn.LSTM / nn.GRU returning its output and final states (a flat tuple)."""

    def __init__(self, rnn: nn.Module, with_state: bool = False) -> None:
        super().__init__()
        self.rnn, self.with_state = rnn, with_state

    def forward(self, x, *state):
        if state:
            out, final = self.rnn(x, state if len(state) > 1 else state[0])
        else:
            out, final = self.rnn(x)
        return (out, *final) if isinstance(final, tuple) else (out, final)


def count_transposes(model: edgelite.Model) -> int:
    return opcodes(model).count("TRANSPOSE")


@pytest.mark.parametrize("net, shape", [(ResNetish, (1, 3, 32, 32)), (MobileNetV3Block, (1, 3, 32, 32))])
def test_cnn_blocks(net, shape):
    torch.manual_seed(0)
    converted = check_torch(randomize_bn(net()), torch.randn(*shape))
    graph = converted.subgraphs[0]
    assert count_transposes(converted) <= len(graph.inputs) + len(graph.outputs), opcodes(converted)


def test_transformer_encoder_layer():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
    check_torch(layer, torch.randn(2, 10, 32))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("layers, bidirectional, batch_first", [(1, False, False), (2, True, True),
                                                                (2, False, True)])
def test_recurrent(kind, layers, bidirectional, batch_first):
    torch.manual_seed(0)
    rnn = getattr(nn, kind)(8, 16, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    x = torch.randn(3, 5, 8) if batch_first else torch.randn(5, 3, 8)
    converted = check_torch(Recurrent(rnn), x)
    assert not {"WHILE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "CUSTOM"} & set(opcodes(converted))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_with_initial_state(kind):
    torch.manual_seed(0)
    rnn = getattr(nn, kind)(8, 16, num_layers=2, bidirectional=True)
    state = [torch.randn(4, 3, 16) for _ in range(2 if kind == "LSTM" else 1)]
    check_torch(Recurrent(rnn), torch.randn(5, 3, 8), *state)
