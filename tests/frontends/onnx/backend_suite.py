"""The ONNX backend test suite of the installed onnx wheel, run through EdgeliteBackend.

The wheel ships the node tests as generators (`onnx.backend.test.case.node`), not as data: they
are generated once (about 10 s) into a cache directory keyed by the onnx version, one pickle per
test (model bytes, inputs, expected outputs, rtol/atol), and loaded per test afterwards.
EDGELITE_ONNX_CASES overrides the cache's parent directory (default: the system temp dir).
The small model tests the wheel ships as data (data/simple, data/pytorch-converted,
data/pytorch-operator: model.onnx + test_data_set_0) are cases too, under their own names; the
light real models have their own test (test_backend_models.py).

node_allowlist.txt names the cases that pass (each must: a failure is a real failure);
node_excluded.txt names those TFLite cannot express, `name  # reason`. Both are regenerated from a
full run by scripts/update_onnx_allowlist.py.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ALLOWLIST = os.path.join(HERE, "node_allowlist.txt")
EXCLUDED = os.path.join(HERE, "node_excluded.txt")
DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
LIGHT = os.path.join(DATA, "light")
DATA_KINDS = ("simple", "pytorch-converted", "pytorch-operator")
CACHE_FORMAT = 1


@dataclass
class NodeCase:
    name: str
    model: onnx.ModelProto
    inputs: list[Any]
    outputs: list[Any]
    rtol: float
    atol: float

    @property
    def op_types(self) -> list[str]:
        return [n.op_type for n in self.model.graph.node]


def cache_dir() -> str:
    parent = os.environ.get("EDGELITE_ONNX_CASES") or tempfile.gettempdir()
    return os.path.join(parent, f"edgelite-onnx-node-cases-{onnx.__version__}-v{CACHE_FORMAT}")


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    """An exclusive lock on path (xdist workers generate the cache once between them)."""
    try:
        import fcntl
    except ImportError:  # Windows: generating twice is harmless (the rename below is atomic)
        yield
        return
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _plain(value: Any) -> Any:
    """numpy arrays (TensorProto made arrays; sequences/optionals kept as lists/None)."""
    if isinstance(value, onnx.TensorProto):
        return onnx.numpy_helper.to_array(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _generate(target: str) -> None:
    from onnx.backend.test.case.node import collect_testcases

    staging = f"{target}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        cases = collect_testcases()
    for case in cases:
        (inputs, outputs), = case.data_sets
        record = {"model": case.model.SerializeToString(), "inputs": [_plain(v) for v in inputs],
                  "outputs": [_plain(v) for v in outputs], "rtol": case.rtol, "atol": case.atol}
        with open(os.path.join(staging, f"{case.name}.pkl"), "wb") as handle:
            pickle.dump(record, handle, protocol=pickle.HIGHEST_PROTOCOL)
    open(os.path.join(staging, "COMPLETE"), "w").close()
    try:
        os.rename(staging, target)
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)


def ensure_node_cases() -> str:
    """The cache directory, generated if this onnx version has none yet."""
    target = cache_dir()
    if os.path.exists(os.path.join(target, "COMPLETE")):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with _locked(target + ".lock"):
        if not os.path.exists(os.path.join(target, "COMPLETE")):
            shutil.rmtree(target, ignore_errors=True)
            _generate(target)
    return target


@functools.cache
def data_cases() -> dict[str, tuple[str, str]]:
    """name -> (kind, directory) of the small model tests stored as data in the wheel."""
    found = {}
    for kind in DATA_KINDS:
        root = os.path.join(DATA, kind)
        if os.path.isdir(root):
            for name in os.listdir(root):
                if os.path.exists(os.path.join(root, name, "model.onnx")):
                    found[name] = (kind, os.path.join(root, name))
    return found


def node_case_names() -> list[str]:
    """Every case: the node tests, then the data model tests."""
    directory = ensure_node_cases()
    return sorted(f[:-4] for f in os.listdir(directory) if f.endswith(".pkl")) + sorted(data_cases())


def _load_value(path: str, type_proto: onnx.TypeProto) -> Any:
    from onnx import numpy_helper

    with open(path, "rb") as handle:
        content = handle.read()
    kind = type_proto.WhichOneof("value")
    protos = {"sequence_type": onnx.SequenceProto, "optional_type": onnx.OptionalProto}
    proto = protos.get(kind, onnx.TensorProto)()
    proto.ParseFromString(content)
    if kind == "sequence_type":
        return numpy_helper.to_list(proto)
    if kind == "optional_type":
        return numpy_helper.to_optional(proto)
    return numpy_helper.to_array(proto)


def _load_data_case(name: str, directory: str) -> NodeCase:
    model = onnx.load(os.path.join(directory, "model.onnx"))
    rtol, atol = 1e-3, 1e-7  # as onnx.backend.test.loader, unless data.json says otherwise
    if os.path.exists(os.path.join(directory, "data.json")):
        import json

        with open(os.path.join(directory, "data.json")) as handle:
            data = json.load(handle)
        rtol, atol = data.get("rtol", rtol), data.get("atol", atol)
    data_set = os.path.join(directory, "test_data_set_0")
    count = len([f for f in os.listdir(data_set) if f.startswith("input_")])
    inputs = [_load_value(os.path.join(data_set, f"input_{k}.pb"), model.graph.input[k].type)
              for k in range(count)]
    count = len([f for f in os.listdir(data_set) if f.startswith("output_")])
    outputs = [_load_value(os.path.join(data_set, f"output_{k}.pb"), model.graph.output[k].type)
               for k in range(count)]
    return NodeCase(name, model, inputs, outputs, rtol, atol)


def load_node_case(name: str) -> NodeCase:
    path = os.path.join(ensure_node_cases(), f"{name}.pkl")
    if not os.path.exists(path):
        stored = data_cases().get(name)
        if stored is None:
            raise KeyError(f"onnx {onnx.__version__} has no backend test {name!r}")
        return _load_data_case(name, stored[1])
    with open(path, "rb") as handle:
        record = pickle.load(handle)
    return NodeCase(name, onnx.load_from_string(record["model"]), record["inputs"], record["outputs"],
                    record["rtol"], record["atol"])


def run_node_case(case: NodeCase, runtimes: tuple[str, ...] = ("edgelite", "litert"),
                  constant_inputs: tuple[str, ...] = ()) -> Any:
    """Convert one case through EdgeliteBackend and run it in each runtime; AssertionError when an
    output differs from ONNX's. Returns the converted Model."""
    from onnx.backend.test.runner import Runner

    from edgelite.frontends.onnx.backend import EdgeliteBackend

    rep = EdgeliteBackend.prepare(case.model, constant_inputs=constant_inputs)
    converted = rep.convert(case.inputs)
    for runtime in runtimes:
        outputs = (rep if runtime == rep.runtime else rep.on(runtime)).run(case.inputs)
        try:
            Runner.assert_similar_outputs(case.outputs, list(outputs), rtol=case.rtol, atol=case.atol)
        except AssertionError as error:
            raise AssertionError(f"{runtime}: {error}") from None
    return converted


def constant_inputs(comment: str) -> tuple[str, ...]:
    """The graph inputs an allow-list line's comment says to bake ('constant inputs: a, b')."""
    if not comment.startswith(CONSTANT_INPUTS):
        return ()
    return tuple(n.strip() for n in comment[len(CONSTANT_INPUTS):].split(",") if n.strip())


CONSTANT_INPUTS = "constant inputs: "
BY_HAND = "# by hand (kept by scripts/update_onnx_allowlist.py while the test fails):"


def read_list(path: str, by_hand: bool = False) -> dict[str, str]:
    """name -> comment ('' when none) from a list file: one test per line, '#' comments;
    by_hand: only the entries below the BY_HAND line."""
    entries: dict[str, str] = {}
    if not os.path.exists(path):
        return entries
    with open(path) as handle:
        lines = handle.read().splitlines()
    if by_hand:
        lines = lines[lines.index(BY_HAND) + 1:] if BY_HAND in lines else []
    for line in lines:
        name, _, comment = line.partition("#")
        name = name.strip()
        if name:
            entries[name] = comment.strip()
    return entries


_SUFFIXES = re.compile(r"(_expanded(_ver\d+)?|_ver\d+)$")


def op_of(name: str) -> str:
    """The ONNX op a node test is about: its own single node's op type, or for a function-expanded
    test (`..._expanded[_verN]`) that of the test it expands; domain-qualified outside ai.onnx.
    A data model test's family is its kind ('pytorch-converted models', ...)."""
    stored = data_cases().get(name)
    if stored is not None:
        return f"{stored[0]} models"
    case = load_node_case(name)
    if len(case.model.graph.node) != 1:
        base = _SUFFIXES.sub("", name)
        if base != name:
            with contextlib.suppress(KeyError):
                case = load_node_case(base)
    nodes = case.model.graph.node
    if len({(n.domain, n.op_type) for n in nodes}) != 1:
        return name[len("test_"):]
    node = nodes[0]
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


_NO_TFLITE_TYPE = {"FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "FLOAT8E8M0",
                   "FLOAT4E2M1", "INT2", "UINT2", "UINT4", "COMPLEX128"}
_PACKED_ONLY = {"INT4"}  # TFLite's INT4 holds packed constant weights, no kernel reads or writes it
_FLOAT32_ONLY = {"DOUBLE": "float64", "FLOAT16": "float16", "BFLOAT16": "bfloat16"}
_UNSIGNED = {"UINT16", "UINT32", "UINT64"}
RANDOM_OPS = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Bernoulli",
              "Multinomial"}


def static_exclusion(case: NodeCase) -> str | None:
    """Why TFLite cannot express a node test, judged from its graph alone (None: it may).

    Applied only to tests that do not pass: a float64 Cast, say, is expressible and may pass."""
    graph = case.model.graph
    kinds = {vi.type.WhichOneof("value") for vi in (*graph.input, *graph.output)}
    if kinds - {"tensor_type"}:
        found = ", ".join(sorted(k.replace("_type", "") for k in kinds - {"tensor_type"}))
        return f"{found} values: TFLite graphs carry tensors only"
    domains = {n.domain for n in graph.node}
    if "ai.onnx.preview.training" in domains:
        return "training op (ai.onnx.preview.training): TFLite models run inference"
    if "ai.onnx.ml" in domains:
        return "ai.onnx.ml op: classic-ML operators have no TFLite builtin"
    if {n.op_type for n in graph.node} & RANDOM_OPS:
        return "random op: the expected output comes from numpy's generator, TFLite's differs"
    names = {onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type)
             for vi in (*graph.input, *graph.output)}
    if "STRING" in names:
        return "string tensors: TFLite has no builtin string kernels for this"
    if names & _NO_TFLITE_TYPE:
        return f"{', '.join(sorted(t.lower() for t in names & _NO_TFLITE_TYPE))}: no TFLite tensor type"
    if names & _PACKED_ONLY:
        return "int4: TFLite's INT4 type holds packed constant weights only (no int4 kernels)"
    if "COMPLEX64" in names:
        return "complex64: TFLite's complex kernels are a handful (no general arithmetic)"
    if names & _FLOAT32_ONLY.keys():
        found = ", ".join(sorted(_FLOAT32_ONLY[t] for t in names & _FLOAT32_ONLY.keys()))
        return f"{found} arithmetic: TFLite's builtin float kernels compute in float32"
    if names & _UNSIGNED:
        found = ", ".join(sorted(t.lower() for t in names & _UNSIGNED))
        return f"{found}: TFLite kernels have no such variant"
    return None
