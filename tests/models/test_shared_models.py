"""Every model in /work/shared/models runs in edgelite and matches the official runtime (LiteRT).

Float models are compared with LiteRT's default op resolver (the XNNPACK path) on seeded random
inputs. Quantized models (int8 weights or activations) are compared with LiteRT's builtin kernels,
which edgelite's int8 arithmetic follows exactly; until those kernels exist such a model is skipped,
but only when edgelite refuses it with UnsupportedOpError at a node that touches quantized tensors.
MediaPipe's custom op Convolution2DTransposeBias is rewritten for the oracle into the builtin
TRANSPOSE_CONV (with bias, version 3); edgelite always runs the original file.

Speed is not measured here: `benchmarks/run_all.py` (`edgelite benchmark` over every shared model)
writes the README's performance table.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pytest

import edgelite
from edgelite.model.ir import Model, Operator, Tensor, TensorType
from edgelite.ops._common import Padding
from edgelite.ops.convolution2d_transpose_bias import VALID, TransposeConvParams
from edgelite.ops.transpose_conv import TransposeConvOptions

MODELS_DIR = Path(__file__).parents[2].parent / "shared" / "models"
MODEL_PATHS = sorted(MODELS_DIR.glob("*.tflite")) if MODELS_DIR.is_dir() else []
SEEDS = (0, 1, 2)
RTOL = ATOL = 1e-4
BATCH = 2
QUANTIZED_TYPES = {TensorType.INT8, TensorType.UINT8, TensorType.INT16, TensorType.INT4}
MEDIAPIPE_DECONV = "Convolution2DTransposeBias"
SQUASHING_OPS = {"LOGISTIC", "SOFTMAX", "TANH"}  # saturate: outputs near 0 or 1 hide upstream errors


# -- model inspection and oracle preparation -------------------------------------------------------
def quantized_tensors(model: Model) -> set[int]:
    """Indices (in subgraph 0) of tensors holding quantized integers: int8 weights or activations."""
    graph = model.subgraphs[0]
    return {i for i, t in enumerate(graph.tensors)
            if t.type in QUANTIZED_TYPES and t.quantization is not None}


def has_dynamic_batch(model: Model) -> bool:
    """Whether every input's shape_signature marks the batch dimension -1 (resizable)."""
    graph = model.subgraphs[0]
    signatures = [graph.tensors[i].shape_signature for i in graph.inputs]
    return bool(signatures) and all(s is not None and len(s) > 0 and s[0] == -1 for s in signatures)


def squashed_inputs(model: Model) -> tuple[int, ...]:
    """Inputs of the squashing ops (sigmoid, softmax, tanh) that write a graph output."""
    graph = model.subgraphs[0]
    return tuple(op.inputs[0] for op in graph.operators
                 if op.opcode in SQUASHING_OPS and set(op.outputs) & set(graph.outputs))


def with_outputs(model: Model, extra_outputs: tuple[int, ...]) -> Model:
    """The model with more tensors of subgraph 0 made graph outputs (in place)."""
    graph = model.subgraphs[0]
    graph.outputs = (*graph.outputs, *(i for i in extra_outputs if i not in graph.outputs))
    return model


def replace_mediapipe_deconv(model: Model) -> int:
    """Rewrite each Convolution2DTransposeBias node as a builtin TRANSPOSE_CONV with bias, in place.

    Same weights and bias tensors; padding and strides from the custom options; the output shape
    is a new constant int32 tensor holding the shape the file records for the node's output.
    Returns the number of nodes replaced.
    """
    replaced = 0
    for graph in model.subgraphs:
        for position, op in enumerate(graph.operators):
            if op.opcode != "CUSTOM" or op.custom_code != MEDIAPIPE_DECONV:
                continue
            params = TransposeConvParams.from_bytes(op.custom_options)
            x, weights, bias = op.inputs
            out_shape = np.array(graph.tensors[op.outputs[0]].shape, dtype=np.int32)
            graph.tensors.append(Tensor(f"{graph.tensors[op.outputs[0]].name}/output_shape", (4,),
                                        TensorType.INT32, model.add_buffer(out_shape)))
            # TfLitePadding 1 is SAME; the op treats anything else (VALID, unknown) as no padding.
            padding = Padding.VALID if params.padding in (0, VALID) else Padding.SAME
            options = TransposeConvOptions(padding=padding, stride_w=params.stride_width,
                                           stride_h=params.stride_height)
            graph.operators[position] = Operator("TRANSPOSE_CONV", (len(graph.tensors) - 1, weights, x, bias),
                                                 op.outputs, options, version=3)
            replaced += 1
    return replaced


def oracle_bytes(path: Path, extra_outputs: tuple[int, ...] = ()) -> bytes:
    """What LiteRT runs: the file itself, or its rewrite (MediaPipe's deconv, extra outputs)."""
    model = edgelite.load(str(path))
    if not replace_mediapipe_deconv(model) and not extra_outputs:
        return path.read_bytes()
    return with_outputs(model, extra_outputs).to_bytes()


def litert_interpreter(model_content: bytes, quantized: bool = False, **kwargs):
    """A LiteRT interpreter: default resolver (XNNPACK) for float, builtin kernels for int8."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if quantized else OpResolverType.AUTO
    return Interpreter(model_content=model_content, experimental_op_resolver_type=resolver, **kwargs)


# -- running (both runtimes share the tf.lite Interpreter API) -----------------------------------
def allocate(interpreter, batch: int | None = None):
    """Resize every input's batch to `batch` (if given) and allocate; returns the interpreter."""
    if batch is not None:
        for detail in interpreter.get_input_details():
            interpreter.resize_tensor_input(detail["index"], [batch, *detail["shape"][1:]])
    interpreter.allocate_tensors()
    return interpreter


def random_inputs(interpreter, seed: int) -> list[np.ndarray]:
    """Seeded inputs: uniform [0, 1) for float tensors, the full range for integer ones."""
    rng = np.random.default_rng(seed)
    inputs = []
    for detail in interpreter.get_input_details():
        shape, dtype = tuple(detail["shape"]), np.dtype(detail["dtype"])
        if dtype.kind == "f":
            inputs.append(rng.random(shape, dtype=np.float64).astype(dtype))
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            inputs.append(rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True))
        else:
            inputs.append(rng.random(shape) < 0.5)
    return inputs


def run(interpreter, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Set the inputs, invoke once and return copies of every output."""
    for detail, value in zip(interpreter.get_input_details(), inputs, strict=True):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]).copy() for d in interpreter.get_output_details()]


def mismatches(model_name: str, got: list[np.ndarray], want: list[np.ndarray], names: list[str]) -> list[str]:
    """One line per output of edgelite (`got`) that differs from LiteRT (`want`) beyond tolerance."""
    problems = []
    for name, a, b in zip(names, got, want, strict=True):
        if a.shape != b.shape or a.dtype != b.dtype:
            problems.append(f"{model_name}: output {name}: edgelite {a.dtype}{a.shape}, "
                            f"LiteRT {b.dtype}{b.shape}")
        elif a.dtype.kind == "f" and not np.allclose(a, b, rtol=RTOL, atol=ATOL):
            err = np.abs(a.astype(np.float64) - b)
            problems.append(f"{model_name}: output {name}: max abs err {err.max():.3g} at "
                            f"{np.unravel_index(err.argmax(), err.shape)}, "
                            f"{np.mean(~np.isclose(a, b, rtol=RTOL, atol=ATOL)):.2%} outside tolerance")
        elif a.dtype.kind != "f" and not np.array_equal(a, b):
            problems.append(f"{model_name}: output {name}: {np.mean(a != b):.2%} elements differ")
    return problems


def max_abs_errors(got: list[np.ndarray], want: list[np.ndarray]) -> list[float]:
    """Per output: the largest |edgelite - LiteRT| (0 for empty outputs)."""
    return [float(np.max(np.abs(a.astype(np.float64) - b), initial=0.0))
            for a, b in zip(got, want, strict=True)]


def prepare_edgelite(path: Path, batch: int | None = None, extra_outputs: tuple[int, ...] = (), **kwargs):
    """An allocated edgelite Interpreter for a model file (plus extra outputs), or a skip for int8.

    A quantized model may be skipped, but only when edgelite refuses it with UnsupportedOpError at
    a node that reads or writes a quantized tensor; any other failure propagates.
    """
    model = edgelite.load(str(path))
    quantized = quantized_tensors(model)
    try:
        if extra_outputs:
            interpreter = edgelite.Interpreter(model_content=with_outputs(model, extra_outputs).to_bytes(),
                                               **kwargs)
        else:
            interpreter = edgelite.Interpreter(model_path=str(path), **kwargs)
        return allocate(interpreter, batch)
    except edgelite.UnsupportedOpError as error:
        if not quantized:
            raise
        match = re.search(r"\(node (\d+)\)", str(error))
        assert match, f"UnsupportedOpError names no node: {error}"
        op = model.subgraphs[0].operators[int(match.group(1))]
        assert quantized & {*op.inputs, *op.outputs}, \
            f"{path.name} is quantized but edgelite failed at a node without quantized tensors: {error}"
        pytest.skip(f"quantized model, int8 kernels not implemented yet: {error}")


# -- tests ----------------------------------------------------------------------------------------
pytestmark = pytest.mark.skipif(not MODEL_PATHS, reason=f"no shared models in {MODELS_DIR}")
litert = pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert (the oracle) not installed")


@functools.cache
def _facts(path: Path) -> tuple[bool, bool, tuple[int, ...]]:
    """(resizable batch, uses MediaPipe's deconv, squashed inputs) of a model file."""
    model = edgelite.load(str(path))
    return has_dynamic_batch(model), any(op.custom_code == MEDIAPIPE_DECONV for graph in model.subgraphs
                                         for op in graph.operators), squashed_inputs(model)


def _check(path: Path, seeds: tuple[int, ...], batch: int | None = None,
           extra_outputs: tuple[int, ...] = ()) -> None:
    ours = prepare_edgelite(path, batch, extra_outputs)
    quantized = bool(quantized_tensors(ours.model))
    theirs = allocate(litert_interpreter(oracle_bytes(path, extra_outputs), quantized), batch)
    names = [d["name"] for d in theirs.get_output_details()]
    problems = []
    for seed in seeds:
        inputs = random_inputs(theirs, seed)
        found = mismatches(path.name, run(ours, inputs), run(theirs, inputs), names)
        problems += [f"seed {seed}: {p}" for p in found]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", MODEL_PATHS, ids=lambda p: p.stem)
def test_matches_litert(path: Path) -> None:
    _check(path, SEEDS)


@pytest.mark.parametrize("path", [p for p in MODEL_PATHS if _facts(p)[0]], ids=lambda p: p.stem)
def test_batch_resized_matches_litert(path: Path) -> None:
    _check(path, SEEDS[:1], batch=BATCH)


@pytest.mark.parametrize("path", [p for p in MODEL_PATHS if _facts(p)[2]], ids=lambda p: p.stem)
def test_before_squashing_matches_litert(path: Path) -> None:
    """Outputs of a sigmoid/softmax can saturate (selfie_segmentation's mask is ~0 on random
    input), hiding errors upstream: compare their inputs too, made extra outputs in both runtimes."""
    _check(path, SEEDS[:1], extra_outputs=_facts(path)[2])


@pytest.mark.parametrize("path", [p for p in MODEL_PATHS if _facts(p)[1]], ids=lambda p: p.stem)
def test_deconv_rewrite_matches_litert_on_original(path: Path) -> None:
    """The oracle's rewrite agrees with LiteRT running the original file, where XNNPACK can.

    LiteRT's XNNPACK delegate claims MediaPipe's custom deconv itself; this checks the rewrite
    against that independent implementation (skipped when this LiteRT build cannot run it).
    """
    model = edgelite.load(str(path))
    # The deconv outputs themselves, as the graph's output (a sigmoid of them) is saturated.
    deconv_outputs = tuple(op.outputs[0] for op in model.subgraphs[0].operators
                           if op.custom_code == MEDIAPIPE_DECONV)
    try:
        original = allocate(litert_interpreter(with_outputs(model, deconv_outputs).to_bytes()))
        inputs = random_inputs(original, 0)
        want = run(original, inputs)
    except (RuntimeError, ValueError) as error:
        pytest.skip(f"LiteRT cannot run the original custom op: {error}")
    got = run(allocate(litert_interpreter(oracle_bytes(path, deconv_outputs))), inputs)
    names = [d["name"] for d in original.get_output_details()]
    problems = mismatches(path.name, got, want, names)
    assert not problems, "\n".join(problems)
