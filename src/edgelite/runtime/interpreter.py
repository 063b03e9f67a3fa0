"""`edgelite.Interpreter`: a drop-in for `tf.lite.Interpreter` / `ai_edge_litert.interpreter.Interpreter`."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Model, Sparsity, Tensor
from edgelite.model.reader import load
from edgelite.ops.registry import Resolver, has_registered
from edgelite.runtime.executor import ReferenceExecutor, Segment
from edgelite.runtime.native import make_executor, native_chosen
from edgelite.runtime.plan import Plan, build_plan


class NotReadyError(EdgeliteError, RuntimeError, ValueError):
    """The interpreter was used before `allocate_tensors` (or after a resize without it)."""


class ResizeError(EdgeliteError, RuntimeError, ValueError):
    """resize_tensor_input was refused (LiteRT raises RuntimeError; ValueError kept for callers)."""


class Interpreter:
    """Loads a .tflite model, plans its memory and runs it (native engine, reference kernels for the rest)."""

    def __init__(self, model_path: str | os.PathLike | None = None, model_content: bytes | None = None,
                 experimental_delegates: Sequence[Any] | None = None, num_threads: int | None = None,
                 experimental_preserve_all_tensors: bool = False,
                 custom_op_resolver: Resolver | None = None, experimental_executor: str | None = None,
                 **litert_only: Any) -> None:
        if (model_path is None) == (model_content is None):
            raise ValueError("Pass exactly one of model_path or model_content")
        if experimental_delegates:
            raise ValueError("edgelite has no delegates yet; pass experimental_delegates=None")
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < -1):
            raise ValueError("num_threads should be an integer >= -1 (-1 lets the runtime decide)")
        self.model: Model = load(model_path if model_path is not None else model_content)
        self.num_threads = num_threads
        if experimental_executor not in (None, "native", "reference"):
            raise ValueError(f"experimental_executor must be 'native' or 'reference', "
                             f"got {experimental_executor!r}")
        # None: the native engine when it is built (EDGELITE_EXECUTOR=reference opts out).
        self._executor_choice = experimental_executor
        self._resolver = custom_op_resolver
        self._preserve = experimental_preserve_all_tensors
        self._subgraph = self.model.subgraphs[0] if self.model.subgraphs else None
        if self._subgraph is None:
            raise ValueError("the model has no subgraphs")
        self._input_shapes: dict[int, tuple[int, ...]] = {}
        self._executor: ReferenceExecutor | None = None
        self._runners: dict[str, SignatureRunner] = {}

    # -- planning -------------------------------------------------------------------------
    def allocate_tensors(self) -> None:
        """Resolve kernels, infer shapes and plan the arena; required before invoke."""
        self._executor = self._make_executor(0, self._input_shapes)

    def _make_executor(self, subgraph_index: int, input_shapes: dict) -> ReferenceExecutor:
        if subgraph_index == 0 and not self._preserve and not self._resolver and not has_registered() \
                and native_chosen(self._executor_choice):
            from edgelite.runtime.compiled import compiled_executor

            executor = compiled_executor(self.model, input_shapes, self.num_threads)
            if executor is not None:
                return executor
        plan = build_plan(self.model, subgraph_index, input_shapes, self._resolver, self._preserve)
        return make_executor(plan, self, self._executor_choice, self.num_threads)

    def partition(self) -> list[Segment]:
        """Which nodes of subgraph 0 run on the native engine and which on the reference kernels (with
        why), in runs of consecutive nodes; `executor.partition_summary` formats it in one line."""
        return self._ready("read the partition").partition()

    @property
    def plan(self) -> Plan:
        return self._ready("read the plan").plan

    def _ready(self, action: str) -> ReferenceExecutor:
        if self._executor is None:
            raise NotReadyError(f"Cannot {action}: tensors are not allocated. "
                                f"Call allocate_tensors() first (again after resize_tensor_input)")
        return self._executor

    def resize_tensor_input(self, input_index: int, tensor_size: Sequence[int], strict: bool = False) -> None:
        """Change an input's shape; takes effect at the next allocate_tensors()."""
        self._check_index(input_index)
        if input_index not in self._subgraph.inputs:
            raise ResizeError(f"Tensor {input_index} is not an input of the model; inputs: "
                              f"{list(self._subgraph.inputs)}")
        shape = tuple(int(d) for d in np.asarray(tensor_size).reshape(-1))
        tensor = self._subgraph.tensors[input_index]
        if any(d < 0 for d in shape):
            raise ResizeError(f"Cannot resize input {input_index} to {shape}: dimensions must be >= 0")
        if strict:
            signature = tensor.shape_signature or tensor.shape
            if len(signature) != len(shape) or any(s != -1 and s != d for s, d in zip(signature, shape,
                                                                                      strict=True)):
                raise ResizeError(f"Cannot resize input {input_index} from {signature} to {shape}: "
                                  f"strict mode only allows changing dimensions marked -1")
        self._input_shapes[input_index] = shape
        if self._executor is not None and self._executor.plan.shapes[input_index] == shape:
            return  # same shape: the allocation stays valid (as in LiteRT)
        self._executor = None

    # -- tensors --------------------------------------------------------------------------
    def _check_index(self, index: int) -> None:
        count = len(self._subgraph.tensors)
        if not isinstance(index, (int, np.integer)) or not 0 <= index < count:
            raise ValueError(f"Invalid tensor index {index} exceeds max tensor index {count - 1}")

    def set_tensor(self, tensor_index: int, value: Any) -> None:
        """Copy `value` into a tensor; dtype and shape must match exactly."""
        executor = self._executor
        if executor is not None and type(value) is np.ndarray and type(tensor_index) is int:
            target = executor.settable.get(tensor_index)  # the common case, without the checks below
            if target is not None and value.dtype == target.dtype and value.shape == target.shape:
                target[...] = value
                return
        self._check_index(tensor_index)
        write_tensor(self._ready("set tensor"), tensor_index, value)

    def get_tensor(self, tensor_index: int, subgraph_index: int = 0) -> np.ndarray:
        """A copy of a tensor's current value."""
        executor = self._executor
        if executor is not None and type(tensor_index) is int and 0 <= tensor_index < len(executor.values):
            value = executor.values[tensor_index]
            if value is not None:
                return value.copy()
        self._check_index(tensor_index)
        value = self._ready("get tensor").values[tensor_index]
        if value is None:
            raise ValueError(f"Tensor {tensor_index} has no value yet: run invoke() first")
        return np.array(value, copy=True)

    def tensor(self, tensor_index: int) -> Callable[[], np.ndarray]:
        """A function returning a live numpy view of the tensor as currently allocated.

        Like LiteRT, the view is looked up on each call, so the function may be created before
        allocate_tensors and keeps working after a re-allocation.
        """
        self._check_index(tensor_index)
        return lambda: self._ready("get tensor").values[tensor_index]

    def invoke(self) -> None:
        """Run the model on the tensors set so far."""
        executor = self._executor
        (executor if executor is not None else self._ready("invoke")).invoke()

    def reset_all_variables(self) -> None:
        self._ready("reset variables").reset_variables()

    # -- details --------------------------------------------------------------------------
    def _details(self, index: int) -> dict[str, Any]:
        tensor = self._subgraph.tensors[index]
        return tensor_details(index, tensor, _current_shape(self._executor, index, tensor,
                                                            self._input_shapes))

    def get_input_details(self) -> list[dict[str, Any]]:
        return [self._details(i) for i in self._subgraph.inputs]

    def get_output_details(self) -> list[dict[str, Any]]:
        return [self._details(i) for i in self._subgraph.outputs]

    def get_tensor_details(self) -> list[dict[str, Any]]:
        return [self._details(i) for i in range(len(self._subgraph.tensors))]

    # -- signatures -----------------------------------------------------------------------
    def get_signature_list(self) -> dict[str, dict[str, list[str]]]:
        return {s.key: {"inputs": list(s.inputs), "outputs": list(s.outputs)} for s in self.model.signatures}

    def get_signature_runner(self, signature_key: str | None = None) -> SignatureRunner:
        signatures = {s.key: s for s in self.model.signatures}
        if signature_key is None:
            if len(signatures) != 1:
                raise ValueError(f"signature_key is None and the model has {len(signatures)} signatures; "
                                 f"None is only allowed with exactly one. Keys: {sorted(signatures)}")
            signature_key = next(iter(signatures))
        if signature_key not in signatures:
            raise ValueError(f'Invalid signature_key provided: "{signature_key}". '
                             f"Available: {sorted(signatures)}")
        if signature_key not in self._runners:
            self._runners[signature_key] = SignatureRunner(self, signatures[signature_key])
        return self._runners[signature_key]


def _current_shape(executor: ReferenceExecutor | None, index: int, tensor: Tensor,
                   input_shapes: dict[int, tuple[int, ...]]) -> tuple[int, ...]:
    """Planned shape, or the last computed one for dynamic tensors; before planning, the model's."""
    if executor is not None:
        value = executor.values[index]
        if index in executor.plan.dynamic_tensors and value is not None:
            return tuple(value.shape)
        if executor.plan.shapes[index] is not None:
            return executor.plan.shapes[index]
    return input_shapes.get(index, tensor.shape)


def _sparsity_details(sparsity: Sparsity | None) -> dict[str, Any]:
    """LiteRT's sparsity_parameters dict ({} for a dense tensor); index vectors as int32."""
    if sparsity is None:
        return {}
    dims = [{"format": dim.format, "dense_size": dim.dense_size} if dim.format == 0 else
            {"format": dim.format, "array_segments": np.asarray(dim.array_segments, np.int32),
             "array_indices": np.asarray(dim.array_indices, np.int32)} for dim in sparsity.dim_metadata]
    return {"traversal_order": np.array(sparsity.traversal_order, np.int32),
            "block_map": np.array(sparsity.block_map, np.int32), "dim_metadata": dims}


def tensor_details(index: int, tensor: Tensor, shape: tuple[int, ...]) -> dict[str, Any]:
    """The details dict of one tensor, laid out as LiteRT's."""
    quant = tensor.quantization
    scales = np.zeros(0, np.float32) if quant is None else quant.scale.astype(np.float32)
    zero_points = np.zeros(0, np.int32) if quant is None else quant.zero_point.astype(np.int32)
    per_tensor = (float(scales[0]), int(zero_points[0])) if scales.size == 1 else (0.0, 0)
    signature = tensor.shape_signature if tensor.shape_signature is not None else tensor.shape
    return {
        "name": tensor.name,
        "index": index,
        "shape": np.array(shape, dtype=np.int32),
        "shape_signature": np.array(signature, dtype=np.int32),
        "dtype": tensor.dtype.type if tensor.type.itemsize else np.bytes_,
        "quantization": per_tensor,
        "quantization_parameters": {
            "scales": scales,
            "zero_points": zero_points,
            "quantized_dimension": 0 if quant is None else quant.quantized_dimension,
            "block_size": 0,
        },
        "sparsity_parameters": _sparsity_details(tensor.sparsity),
    }


def write_tensor(executor: ReferenceExecutor, tensor_index: int, value: Any) -> None:
    """set_tensor's checks (with LiteRT's messages) and copy."""
    target = executor.values[tensor_index]
    tensor = executor.plan.subgraph.tensors[tensor_index]
    value = np.asarray(value)
    if target is None:
        raise ValueError(f"Cannot set tensor {tensor_index} ({tensor.name}): it has no fixed memory "
                         "(constant-free dynamic tensor)")
    if value.dtype != tensor.dtype and not (tensor.type.itemsize == 0 and value.dtype.kind in "SUO"):
        raise ValueError(f"Cannot set tensor: Got value of type {value.dtype.name.upper()} but "
                         f"expected type {tensor.type.name} for input {tensor_index}, name: {tensor.name}")
    if value.ndim != target.ndim:
        raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {value.ndim} but expected "
                         f"{target.ndim} for input {tensor_index}.")
    for axis, (got, want) in enumerate(zip(value.shape, target.shape, strict=True)):
        if got != want:
            raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {got} but expected {want} "
                             f"for dimension {axis} of input {tensor_index}.")
    if tensor_index in executor.plan.constants:
        raise ValueError(f"Cannot set tensor {tensor_index} ({tensor.name}): it is a constant")
    if target.dtype == object:
        executor.values[tensor_index] = value.astype(object)
    else:
        target[...] = value


class SignatureRunner:
    """Runs one signature: call it with input names as keywords, get a dict of outputs.

    As in LiteRT, a signature of subgraph 0 runs on the interpreter's own tensors (resizing and
    re-allocating them as its inputs require), so the interpreter sees the last call's values.
    """

    def __init__(self, interpreter: Interpreter, signature) -> None:
        self._interpreter = interpreter
        self._signature = signature
        self._input_shapes: dict[int, tuple[int, ...]] = {}
        self._own_executor: ReferenceExecutor | None = None

    @property
    def _primary(self) -> bool:
        return self._signature.subgraph_index == 0

    @property
    def _executor(self) -> ReferenceExecutor | None:
        return self._interpreter._executor if self._primary else self._own_executor

    def get_input_details(self) -> dict[str, dict[str, Any]]:
        return {name: self._details(i) for name, i in self._signature.inputs.items()}

    def get_output_details(self) -> dict[str, dict[str, Any]]:
        return {name: self._details(i) for name, i in self._signature.outputs.items()}

    def _details(self, index: int) -> dict[str, Any]:
        tensor = self._interpreter.model.subgraphs[self._signature.subgraph_index].tensors[index]
        input_shapes = self._interpreter._input_shapes if self._primary else self._input_shapes
        return tensor_details(index, tensor, _current_shape(self._executor, index, tensor, input_shapes))

    def __call__(self, **inputs: Any) -> dict[str, np.ndarray]:
        expected = self._signature.inputs
        if len(inputs) != len(expected):
            raise ValueError(f"Invalid number of inputs provided for running a SignatureDef, expected "
                             f"{len(expected)} vs provided {len(inputs)} (inputs: {sorted(expected)})")
        unknown = sorted(set(inputs) - set(expected))
        if unknown:
            raise ValueError(f"Invalid Input name ({unknown[0]}) for SignatureDef; "
                             f"expected {sorted(expected)}")
        arrays = {expected[name]: np.asarray(v) for name, v in inputs.items()}
        if self._primary:
            interpreter = self._interpreter
            for i, array in arrays.items():
                interpreter.resize_tensor_input(i, array.shape)
            if interpreter._executor is None:
                interpreter.allocate_tensors()
        elif self._own_executor is None or any(self._own_executor.plan.shapes[i] != a.shape
                                               for i, a in arrays.items()):
            self._input_shapes = {i: a.shape for i, a in arrays.items()}
            self._own_executor = self._interpreter._make_executor(self._signature.subgraph_index,
                                                                  self._input_shapes)
        executor = self._executor
        for i, array in arrays.items():
            write_tensor(executor, i, array)
        executor.invoke()
        return {name: np.array(executor.values[i], copy=True) for name, i in self._signature.outputs.items()}
