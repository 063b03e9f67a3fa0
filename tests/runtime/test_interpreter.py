"""edgelite.Interpreter against ai_edge_litert.interpreter.Interpreter (the oracle), side by side.

Every test builds both interpreters from the same model bytes and checks that the API behaves
alike: details dicts, tensor access, errors, resizing, signatures, preserved intermediates,
variables, custom ops and data-dependent shapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import edgelite
from edgelite.errors import ModelError, UnsupportedOpError
from edgelite.model.ir import (
    DimensionMetadata,
    Model,
    Operator,
    Quantization,
    SignatureDef,
    Sparsity,
    Subgraph,
    Tensor,
    TensorType,
)
from edgelite.ops import registry
from edgelite.ops.add import AddOptions
from edgelite.ops.base import OpDef
from edgelite.ops.mul import MulOptions
from edgelite.ops.reshape import ReshapeOptions

litert = pytest.importorskip("ai_edge_litert.interpreter",
                             reason="ai-edge-litert (the oracle) is not installed")

MODELS = Path(__file__).parents[2].parent / "shared" / "models"
DIGITS = MODELS / "digits_cnn_float32.tflite"
MODEL_FILES = sorted(MODELS.glob("*.tflite")) if MODELS.is_dir() else []
needs_models = pytest.mark.skipif(not DIGITS.is_file(), reason=f"shared models not found in {MODELS}")


def oracle(content: bytes | None = None, **kwargs: Any):
    """LiteRT without its default delegates (XNNPACK), so every tensor stays on the CPU kernels."""
    kwargs.setdefault("experimental_op_resolver_type",
                      litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    return litert.Interpreter(model_content=content, **kwargs)


def both(content: bytes, **kwargs: Any) -> tuple[Any, edgelite.Interpreter]:
    return oracle(content, **kwargs), edgelite.Interpreter(model_content=content, **kwargs)


@pytest.fixture(scope="module")
def digits() -> bytes:
    if not DIGITS.is_file():
        pytest.skip(f"shared models not found in {MODELS}")
    return DIGITS.read_bytes()


def digits_input(batch: int = 1, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, 16, 16, 1)).astype(np.float32)


def run(interpreter: Any, *feeds: np.ndarray) -> list[np.ndarray]:
    for detail, value in zip(interpreter.get_input_details(), feeds, strict=True):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def assert_outputs_equal(ours: list[np.ndarray], theirs: list[np.ndarray]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def assert_same_details(ours: Any, theirs: Any, where: str = "details") -> None:
    """Deep equality of details structures: same keys in the same order, same types, same values."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert list(ours) == list(theirs), f"{where}: keys {list(ours)} != LiteRT {list(theirs)}"
        for key in theirs:
            assert_same_details(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), f"{where}: {ours!r} != {theirs!r}"
        for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same_details(a, b, f"{where}[{k}]")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{where}: {type(ours)} is not an ndarray"
        assert ours.dtype == theirs.dtype, f"{where}: dtype {ours.dtype} != LiteRT {theirs.dtype}"
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    else:
        assert type(ours) is type(theirs) or ours is theirs, f"{where}: type {type(ours)} != {type(theirs)}"
        assert ours == theirs, f"{where}: {ours!r} != LiteRT {theirs!r}"


# -- small models built with the IR ------------------------------------------------------------

def new_model() -> tuple[Model, Subgraph]:
    model = Model(subgraphs=[Subgraph(name="main")])
    return model, model.subgraphs[0]


def variable_add_model() -> bytes:
    """y = x + v, v a variable tensor (zeroed at allocation and by reset_all_variables)."""
    model, graph = new_model()
    graph.tensors = [Tensor("x", (2,)), Tensor("v", (2,), is_variable=True), Tensor("y", (2,))]
    graph.operators = [Operator("ADD", (0, 1), (2,), AddOptions())]
    graph.inputs, graph.outputs = (0,), (2,)
    return model.to_bytes()


def variable_reshape_model(tensor_type: TensorType, zero_point: int) -> bytes:
    """y = RESHAPE(v) of a quantized variable v: shows the value the variable is reset to."""
    model, graph = new_model()
    quant = Quantization.of(0.5, zero_point)
    graph.tensors = [Tensor("v", (2,), tensor_type, quantization=quant, is_variable=True),
                     Tensor("y", (1, 2), tensor_type, quantization=quant)]
    graph.operators = [Operator("RESHAPE", (0,), (1,), ReshapeOptions(new_shape=(1, 2)))]
    graph.inputs, graph.outputs = (), (1,)
    return model.to_bytes()


def dynamic_reshape_model() -> bytes:
    """y = RESHAPE(x, shape) + 1 where shape is an int32 graph input: y's shape is data-dependent."""
    model, graph = new_model()
    one = model.add_buffer(np.array([1], np.float32))
    graph.tensors = [Tensor("x", (2, 6)), Tensor("shape", (2,), TensorType.INT32), Tensor("r", (3, 4)),
                     Tensor("one", (1,), buffer=one), Tensor("y", (3, 4))]
    graph.operators = [Operator("RESHAPE", (0, 1), (2,), ReshapeOptions()),
                       Operator("ADD", (2, 3), (4,), AddOptions())]
    graph.inputs, graph.outputs = (0, 1), (4,)
    return model.to_bytes()


def custom_op_model(code: str, shape: tuple[int, ...] = (2, 3), out_shape: tuple[int, ...] | None = None,
                    shape_signature: tuple[int, ...] | None = None) -> bytes:
    """y = CUSTOM[code](x + 0): the custom op is node 1, after one builtin."""
    model, graph = new_model()
    zero = model.add_buffer(np.zeros(1, np.float32))
    graph.tensors = [Tensor("x", shape, shape_signature=shape_signature), Tensor("zero", (1,), buffer=zero),
                     Tensor("t", shape, shape_signature=shape_signature), Tensor("y", out_shape or shape)]
    graph.operators = [Operator("ADD", (0, 1), (2,), AddOptions()),
                       Operator("CUSTOM", (2,), (3,), custom_code=code, custom_options=b"")]
    graph.inputs, graph.outputs = (0,), (3,)
    return model.to_bytes()


def two_signature_model() -> bytes:
    """Signature 'add_one' on subgraph 0 (x + 1) and 'double' on subgraph 1 (x * 2)."""
    model = Model(subgraphs=[Subgraph(name="add"), Subgraph(name="mul")])
    for graph, opcode, options, value in ((model.subgraphs[0], "ADD", AddOptions(), 1.0),
                                          (model.subgraphs[1], "MUL", MulOptions(), 2.0)):
        constant = model.add_buffer(np.array([value], np.float32))
        graph.tensors = [Tensor("x", (3,), shape_signature=(-1,)), Tensor("c", (1,), buffer=constant),
                         Tensor("y", (3,), shape_signature=(-1,))]
        graph.operators = [Operator(opcode, (0, 1), (2,), options)]
        graph.inputs, graph.outputs = (0,), (2,)
    model.signatures = [SignatureDef("add_one", {"a": 0}, {"sum": 2}, 0),
                        SignatureDef("double", {"b": 0}, {"product": 2}, 1)]
    return model.to_bytes()


def sparse_constant_model() -> bytes:
    """DENSIFY of a block-sparse constant (CSR with uint8 index vectors)."""
    model, graph = new_model()
    sparsity = Sparsity((0, 1, 2), (1,), [
        DimensionMetadata(0, 4),
        DimensionMetadata(1, 0, np.array([0, 2, 2, 3, 4], np.uint8), np.array([0, 3, 1, 3], np.uint8)),
        DimensionMetadata(0, 2)])
    values = np.arange(1, 9, dtype=np.float32)
    graph.tensors = [Tensor("sparse", (4, 8), buffer=model.add_buffer(values), sparsity=sparsity),
                     Tensor("dense", (4, 8))]
    graph.operators = [Operator("DENSIFY", (0,), (1,))]
    graph.inputs, graph.outputs = (), (1,)
    return model.to_bytes()


# -- details ------------------------------------------------------------------------------------

@needs_models
@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("allocated", [False, True], ids=["before_allocate", "after_allocate"])
def test_details_match_litert_on_real_models(path: Path, allocated: bool) -> None:
    content = path.read_bytes()  # LiteRT's default resolver: it has the MediaPipe custom ops
    theirs, ours = litert.Interpreter(model_content=content), edgelite.Interpreter(model_content=content)
    if allocated:
        theirs.allocate_tensors()
        try:
            ours.allocate_tensors()
        except UnsupportedOpError as error:
            pytest.skip(f"edgelite cannot run {path.name} yet: {error}")
    assert_same_details(ours.get_input_details(), theirs.get_input_details(), "inputs")
    assert_same_details(ours.get_output_details(), theirs.get_output_details(), "outputs")
    ours_by_index = {d["index"]: d for d in ours.get_tensor_details()}
    assert sorted(ours_by_index) == list(range(len(ours_by_index)))
    listed = theirs.get_tensor_details()
    assert len(listed) > 0
    for detail in listed:  # LiteRT may omit tensors (and may list temporaries after allocate)
        if detail["index"] < len(ours_by_index):
            assert_same_details(ours_by_index[detail["index"]], detail, f"tensor {detail['index']}")


def test_details_layout() -> None:
    theirs, ours = both(variable_add_model())
    detail = ours.get_input_details()[0]
    assert list(detail) == ["name", "index", "shape", "shape_signature", "dtype", "quantization",
                            "quantization_parameters", "sparsity_parameters"]
    assert detail["dtype"] is np.float32
    assert detail["shape"].dtype == np.int32 and detail["shape_signature"].dtype == np.int32
    assert list(detail["quantization_parameters"]) == ["scales", "zero_points", "quantized_dimension",
                                                       "block_size"]
    assert_same_details(ours.get_tensor_details(), theirs.get_tensor_details())


def test_sparsity_parameters_match_litert() -> None:
    theirs, ours = both(sparse_constant_model())
    assert_same_details(ours.get_tensor_details(), theirs.get_tensor_details())
    sparse = ours.get_tensor_details()[0]["sparsity_parameters"]
    assert sparse["dim_metadata"][1]["array_indices"].dtype == np.int32
    theirs.allocate_tensors()
    ours.allocate_tensors()
    # LiteRT renames DENSIFY's output at allocation; the sparse constant keeps its details.
    assert_same_details(ours.get_tensor_details()[0], theirs.get_tensor_details()[0])
    np.testing.assert_array_equal(run(ours)[0], run(theirs)[0])


# -- set_tensor / get_tensor / tensor() --------------------------------------------------------

def test_get_tensor_returns_a_copy(digits: bytes) -> None:
    for interpreter in both(digits):
        interpreter.allocate_tensors()
        (first,) = run(interpreter, digits_input(seed=1))
        kept = first.copy()
        first[...] = 0
        output = interpreter.get_output_details()[0]["index"]
        np.testing.assert_array_equal(interpreter.get_tensor(output), kept)
        run(interpreter, digits_input(seed=2))
        assert not np.array_equal(interpreter.get_tensor(output), kept)
        np.testing.assert_array_equal(first, 0)


def test_tensor_returns_a_live_view(digits: bytes) -> None:
    results = []
    for interpreter in both(digits):
        input_index = interpreter.get_input_details()[0]["index"]
        output_index = interpreter.get_output_details()[0]["index"]
        input_view = interpreter.tensor(input_index)  # made before allocation: LiteRT looks it up per call
        output_view = interpreter.tensor(output_index)
        interpreter.allocate_tensors()
        outputs = []
        for seed in (1, 2):
            input_view()[...] = digits_input(seed=seed)
            interpreter.invoke()
            outputs.append(output_view().copy())
        np.testing.assert_array_equal(interpreter.get_tensor(input_index), digits_input(seed=2))
        interpreter.resize_tensor_input(input_index, [3, 16, 16, 1])
        interpreter.allocate_tensors()
        assert input_view().shape == (3, 16, 16, 1)  # the same function follows the re-allocation
        input_view()[...] = digits_input(3, seed=3)
        interpreter.invoke()
        outputs.append(output_view().copy())
        results.append(outputs)
    theirs, ours = results
    assert_outputs_equal(ours, theirs)


def test_tensor_view_reflects_each_invoke() -> None:
    _, ours = both(variable_add_model())
    ours.allocate_tensors()
    output = ours.tensor(2)
    view = output()
    for value in (1.0, 5.0):
        ours.set_tensor(0, np.full(2, value, np.float32))
        ours.invoke()
        np.testing.assert_array_equal(view, value)
        assert np.shares_memory(view, output())


def _message(action: Any) -> tuple[type, str]:
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is what is being compared
        action()
    return type(info.value), str(info.value).strip()


@pytest.mark.parametrize(("case", "value"), [
    ("dtype", np.zeros((1, 16, 16, 1), np.float64)),
    ("rank", np.zeros((1, 16, 16), np.float32)),
    ("dimension", np.zeros((1, 16, 17, 1), np.float32)),
    ("int_dtype", np.zeros((1, 16, 16, 1), np.int32)),
])
def test_set_tensor_errors_match_litert(digits: bytes, case: str, value: np.ndarray) -> None:
    theirs, ours = both(digits)
    theirs.allocate_tensors()
    ours.allocate_tensors()
    their_type, their_message = _message(lambda: theirs.set_tensor(0, value))
    our_type, our_message = _message(lambda: ours.set_tensor(0, value))
    assert their_type is ValueError and issubclass(our_type, ValueError)
    assert our_message == their_message


@pytest.mark.parametrize("index", [999, -1])
@pytest.mark.parametrize("method", ["set_tensor", "get_tensor"])
def test_bad_tensor_index_raises_value_error(digits: bytes, index: int, method: str) -> None:
    theirs, ours = both(digits)
    for interpreter in (theirs, ours):
        interpreter.allocate_tensors()
        args = (index, digits_input()) if method == "set_tensor" else (index,)
        with pytest.raises(ValueError, match=f"Invalid tensor index {index} exceeds max tensor index"):
            getattr(interpreter, method)(*args)
    with pytest.raises(ValueError, match="Invalid tensor index"):
        ours.tensor(index)  # LiteRT only fails when the returned function is called
    with pytest.raises(ValueError, match="Invalid tensor index"):
        theirs.tensor(index)()
    with pytest.raises(ValueError, match="Invalid tensor index 25 exceeds max tensor index 24"):
        ours.get_tensor(25)  # LiteRT's kernels add temporaries after the model's 25 tensors


def test_use_before_allocate(digits: bytes) -> None:
    theirs, ours = both(digits)
    with pytest.raises(RuntimeError, match="not ready"):
        theirs.invoke()
    with pytest.raises(RuntimeError, match="allocate_tensors") as info:
        ours.invoke()
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)
    for interpreter in (theirs, ours):
        with pytest.raises(ValueError):
            interpreter.set_tensor(0, digits_input())
        with pytest.raises(ValueError, match="allocate_tensors"):
            interpreter.get_tensor(0)


def test_set_tensor_on_a_constant_is_refused() -> None:
    _, ours = both(dynamic_reshape_model())  # LiteRT crashes (segfault) when a constant is set
    ours.allocate_tensors()
    with pytest.raises(ValueError, match="constant"):
        ours.set_tensor(3, np.array([2], np.float32))


# -- resizing -------------------------------------------------------------------------------------

def test_resize_batch_then_allocate_matches_litert(digits: bytes) -> None:
    x = digits_input(3, seed=4)
    results = []
    for interpreter in both(digits):
        interpreter.resize_tensor_input(0, [3, 16, 16, 1])
        assert list(interpreter.get_input_details()[0]["shape"]) == [3, 16, 16, 1]
        interpreter.allocate_tensors()
        assert list(interpreter.get_output_details()[0]["shape"]) == [3, 10]
        results.append(run(interpreter, x))
    theirs, ours = results
    assert ours[0].shape == (3, 10)
    assert_outputs_equal(ours, theirs)
    single = edgelite.Interpreter(model_content=digits)
    single.allocate_tensors()
    for row in range(3):  # batch rows are independent
        np.testing.assert_allclose(run(single, x[row:row + 1])[0][0], ours[0][row], rtol=1e-5, atol=1e-6)


def test_resize_strict_only_changes_unknown_dimensions(digits: bytes) -> None:
    for interpreter in both(digits):
        interpreter.resize_tensor_input(0, [3, 16, 16, 1], strict=True)  # the batch is -1
        with pytest.raises(RuntimeError, match="-1"):
            interpreter.resize_tensor_input(0, [3, 16, 17, 1], strict=True)
        interpreter.resize_tensor_input(0, [3, 16, 17, 1])  # not strict: any shape
    with pytest.raises(ValueError, match="strict"):
        edgelite.Interpreter(model_content=digits).resize_tensor_input(0, [1, 8, 16, 1], strict=True)


def test_resize_of_a_constant_is_refused(digits: bytes) -> None:
    theirs, ours = both(digits)
    with pytest.raises(RuntimeError):
        theirs.resize_tensor_input(1, [3])
    with pytest.raises(RuntimeError, match="not an input"):
        ours.resize_tensor_input(1, [3])


def test_resize_without_allocate_then_use_raises(digits: bytes) -> None:
    for interpreter in both(digits):
        interpreter.allocate_tensors()
        interpreter.resize_tensor_input(0, [3, 16, 16, 1])
        with pytest.raises(RuntimeError):
            interpreter.invoke()
        with pytest.raises(ValueError):
            interpreter.set_tensor(0, digits_input(3))
        with pytest.raises(ValueError):
            interpreter.get_tensor(0)


def test_resize_to_the_same_shape_keeps_the_allocation(digits: bytes) -> None:
    results = []
    for interpreter in both(digits):
        interpreter.allocate_tensors()
        interpreter.resize_tensor_input(0, [1, 16, 16, 1])
        results.append(run(interpreter, digits_input()))  # no allocate_tensors needed
    assert_outputs_equal(*results[::-1])


# -- signatures -------------------------------------------------------------------------------

def test_signature_list_matches_litert(digits: bytes) -> None:
    for content in (digits, two_signature_model(), variable_add_model()):
        theirs, ours = both(content)
        assert ours.get_signature_list() == theirs.get_signature_list()


@pytest.mark.parametrize("key", [None, "serving_default"])
def test_signature_runner_matches_litert(digits: bytes, key: str | None) -> None:
    results = []
    for interpreter in both(digits):
        runner = interpreter.get_signature_runner(key)
        assert_same_details(runner.get_input_details(),
                            oracle(digits).get_signature_runner(key).get_input_details())
        outputs = [runner(keras_tensor=digits_input(batch, seed=batch)) for batch in (1, 3, 1)]
        # The runner drives the interpreter's own tensors: they show the last call.
        np.testing.assert_array_equal(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]),
                                      outputs[-1]["output_0"])
        assert list(interpreter.get_input_details()[0]["shape"]) == [1, 16, 16, 1]
        assert list(runner.get_output_details()["output_0"]["shape"]) == [1, 10]
        results.append(outputs)
    theirs, ours = results
    for a, b in zip(ours, theirs, strict=True):
        assert list(a) == list(b) == ["output_0"]
        assert_outputs_equal([a["output_0"]], [b["output_0"]])


def test_signature_runner_errors(digits: bytes) -> None:
    x = digits_input()
    for interpreter in both(digits):
        with pytest.raises(ValueError, match='Invalid signature_key provided: "nope"'):
            interpreter.get_signature_runner("nope")
        runner = interpreter.get_signature_runner()
        with pytest.raises(ValueError, match=r"Invalid Input name \(nope\)"):
            runner(nope=x)
        with pytest.raises(ValueError, match="Invalid number of inputs"):
            runner()
        with pytest.raises(ValueError, match="Invalid number of inputs"):
            runner(keras_tensor=x, extra=x)
        with pytest.raises(ValueError, match="Got value of type FLOAT64 but expected type FLOAT32"):
            runner(keras_tensor=x.astype(np.float64))
        with pytest.raises(TypeError):
            runner(x)


def test_signatures_on_several_subgraphs() -> None:
    content = two_signature_model()
    results = []
    for interpreter in both(content):
        with pytest.raises(ValueError, match="None"):
            interpreter.get_signature_runner()
        add_one = interpreter.get_signature_runner("add_one")
        double = interpreter.get_signature_runner("double")
        results.append([add_one(a=np.arange(3, dtype=np.float32)), double(b=np.arange(5, dtype=np.float32)),
                        add_one(a=np.ones(2, np.float32))])
        assert list(double.get_output_details()["product"]["shape"]) == [5]
        assert list(add_one.get_output_details()["sum"]["shape"]) == [2]
    theirs, ours = results
    for a, b in zip(ours, theirs, strict=True):
        assert list(a) == list(b)
        assert_outputs_equal(list(a.values()), list(b.values()))
    np.testing.assert_array_equal(ours[1]["product"], np.arange(5) * 2)


# -- preserved intermediates ----------------------------------------------------------------------

def test_preserve_all_tensors_matches_litert(digits: bytes) -> None:
    x = digits_input(seed=5)
    theirs, ours = both(digits, experimental_preserve_all_tensors=True)
    for interpreter in (theirs, ours):
        interpreter.allocate_tensors()
        run(interpreter, x)
    count = len(ours.get_tensor_details())
    compared = 0
    for detail in theirs.get_tensor_details():
        index = detail["index"]
        if index >= count:
            continue  # LiteRT's own temporaries
        expected = theirs.get_tensor(index)
        got = ours.get_tensor(index)
        assert got.shape == expected.shape and got.dtype == expected.dtype, detail["name"]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=detail["name"])
        compared += 1
    assert compared == count


def test_preserving_tensors_needs_a_bigger_arena(digits: bytes) -> None:
    sizes = {}
    for preserve in (False, True):
        interpreter = edgelite.Interpreter(model_content=digits, experimental_preserve_all_tensors=preserve)
        interpreter.allocate_tensors()
        sizes[preserve] = interpreter.plan.arena_size
    assert sizes[False] < sizes[True]


# -- variables ----------------------------------------------------------------------------------

def test_reset_all_variables_matches_litert() -> None:
    x = np.array([1, 2], np.float32)
    for interpreter in both(variable_add_model()):
        interpreter.allocate_tensors()
        np.testing.assert_array_equal(interpreter.get_tensor(1), [0, 0])
        interpreter.set_tensor(1, np.array([10, 20], np.float32))
        interpreter.set_tensor(0, x)
        interpreter.invoke()
        interpreter.invoke()  # the variable keeps its value between invokes
        np.testing.assert_array_equal(interpreter.get_tensor(2), [11, 22])
        interpreter.reset_all_variables()
        np.testing.assert_array_equal(interpreter.get_tensor(1), [0, 0])
        interpreter.invoke()
        np.testing.assert_array_equal(interpreter.get_tensor(2), x)


@pytest.mark.parametrize(("tensor_type", "zero_point"), [(TensorType.INT8, 3), (TensorType.INT8, -128),
                                                         (TensorType.UINT8, 3), (TensorType.INT16, 0)])
def test_quantized_variables_reset_like_litert(tensor_type: TensorType, zero_point: int) -> None:
    """TFLite resets int8 variables to their zero point, every other type to 0."""
    readings = []
    for interpreter in both(variable_reshape_model(tensor_type, zero_point)):
        interpreter.allocate_tensors()
        after_allocate = interpreter.get_tensor(0)
        interpreter.set_tensor(0, np.array([7, 7], tensor_type.numpy))
        interpreter.reset_all_variables()
        interpreter.invoke()
        readings.append((after_allocate, interpreter.get_tensor(0), interpreter.get_tensor(1)))
    theirs, ours = readings
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours[1].tolist() == ([zero_point] * 2 if tensor_type == TensorType.INT8 else [0, 0])


# -- custom and unknown ops ----------------------------------------------------------------------

@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))


def double(node) -> None:
    node.outputs[0][...] = node.inputs[0] * 2


def test_register_op_with_a_plain_callable(clean_registry: None) -> None:
    interpreter = edgelite.Interpreter(model_content=custom_op_model("EdgeliteTestDouble"))
    with pytest.raises(UnsupportedOpError):
        interpreter.allocate_tensors()
    edgelite.register_op("EdgeliteTestDouble", double)
    interpreter.allocate_tensors()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(run(interpreter, x)[0], x * 2)


def test_register_op_rejects_a_non_callable(clean_registry: None) -> None:
    with pytest.raises(TypeError, match="EdgeliteTestBad"):
        edgelite.register_op("EdgeliteTestBad", 42)


def flatten_shape(node) -> list:
    return [(int(np.prod(node.input_shapes[0])),)]


def flatten(node) -> None:
    node.outputs[0][...] = node.inputs[0].reshape(-1)


def test_custom_op_resolver_with_an_opdef_and_shape_function(clean_registry: None) -> None:
    edgelite.register_op("EdgeliteTestFlatten", double)  # the per-interpreter resolver wins
    content = custom_op_model("EdgeliteTestFlatten", (2, 3), (6,), shape_signature=(-1, 3))
    opdef = OpDef("EdgeliteTestFlatten", flatten, shape=flatten_shape)
    interpreter = edgelite.Interpreter(model_content=content,
                                       custom_op_resolver={"EdgeliteTestFlatten": opdef})
    interpreter.resize_tensor_input(0, [4, 3], strict=True)
    interpreter.allocate_tensors()
    assert list(interpreter.get_output_details()[0]["shape"]) == [12]
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(run(interpreter, x)[0], x.reshape(-1))
    callable_only = edgelite.Interpreter(model_content=custom_op_model("EdgeliteTestDouble"),
                                         custom_op_resolver={"EdgeliteTestDouble": double})
    callable_only.allocate_tensors()
    np.testing.assert_array_equal(run(callable_only, np.ones((2, 3), np.float32))[0], 2)


def test_unknown_custom_op_fails_at_allocate_like_litert() -> None:
    theirs, ours = both(custom_op_model("NoSuchOp"))  # constructing succeeds in both
    with pytest.raises(RuntimeError, match="NoSuchOp"):
        theirs.allocate_tensors()
    with pytest.raises(UnsupportedOpError, match=r"NoSuchOp \(node 1\)") as info:
        ours.allocate_tensors()
    assert isinstance(info.value, RuntimeError)  # NotImplementedError, like LiteRT's RuntimeError
    assert "custom_op_resolver" in str(info.value)


def test_unknown_builtin_op_fails_at_allocate() -> None:
    model, graph = new_model()
    graph.tensors = [Tensor("x", (1, 4)), Tensor("y", (1, 4))]
    graph.operators = [Operator("LSTM", (0,), (1,))]
    graph.inputs, graph.outputs = (0,), (1,)
    interpreter = edgelite.Interpreter(model_content=model.to_bytes())
    assert interpreter.get_input_details()[0]["name"] == "x"
    with pytest.raises(UnsupportedOpError, match=r"LSTM \(node 0\)"):
        interpreter.allocate_tensors()


# -- constructor --------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"model_path": "x.tflite", "model_content": b"TFL3"}],
                         ids=["neither", "both"])
def test_constructor_needs_exactly_one_source(kwargs: dict) -> None:
    for interpreter_class in (litert.Interpreter, edgelite.Interpreter):
        with pytest.raises(ValueError, match="model_path"):
            interpreter_class(**kwargs)


def test_constructor_with_a_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing.tflite"
    with pytest.raises(ValueError, match="missing.tflite"):
        litert.Interpreter(model_path=str(path))
    with pytest.raises(OSError, match="missing.tflite"):  # FileNotFoundError, not LiteRT's ValueError
        edgelite.Interpreter(model_path=str(path))
    with pytest.raises(OSError, match="missing.tflite"):
        edgelite.Interpreter(model_path=path)


def test_constructor_rejects_bytes_that_are_not_a_model() -> None:
    with pytest.raises(ValueError):
        litert.Interpreter(model_content=b"garbage!" * 10)
    with pytest.raises(ModelError):
        edgelite.Interpreter(model_content=b"garbage!" * 10)


def test_model_path_and_num_threads(digits: bytes) -> None:
    for num_threads in (None, 1, 4):
        for interpreter_class in (litert.Interpreter, edgelite.Interpreter):
            interpreter = interpreter_class(model_path=str(DIGITS), num_threads=num_threads)
            interpreter.allocate_tensors()
            assert run(interpreter, digits_input())[0].shape == (1, 10)
    edgelite.Interpreter(model_content=digits, num_threads=-1)  # tf.lite's "runtime decides"
    for bad in (-2, 1.5):
        for interpreter_class in (litert.Interpreter, edgelite.Interpreter):
            with pytest.raises(ValueError, match="num_threads"):
                interpreter_class(model_content=digits, num_threads=bad)


# -- data-dependent shapes --------------------------------------------------------------------

def test_reshape_with_a_runtime_shape_matches_litert() -> None:
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    results = []
    for interpreter in both(dynamic_reshape_model()):
        interpreter.allocate_tensors()
        outputs = []
        for target in ([3, 4], [4, 3], [12, 1], [-1, 2], [2, 6]):
            (y,) = run(interpreter, x, np.array(target, np.int32))
            outputs.append(y)
            assert list(interpreter.get_output_details()[0]["shape"]) == list(y.shape)
        results.append(outputs)
    theirs, ours = results
    assert [y.shape for y in ours] == [(3, 4), (4, 3), (12, 1), (6, 2), (2, 6)]
    assert_outputs_equal(ours, theirs)


@pytest.mark.parametrize("executor", ["native", "reference"])
def test_a_dropped_interpreter_frees_its_executor_without_gc(digits: bytes, executor: str) -> None:
    """The nodes see the Interpreter through a weak proxy: no reference cycle keeps the executor
    (and its arena and weights) alive until the next cyclic collection."""
    import gc
    import weakref

    gc.disable()
    try:
        interpreter = edgelite.Interpreter(model_content=digits, experimental_executor=executor)
        interpreter.allocate_tensors()
        interpreter.invoke()
        held = weakref.ref(interpreter._executor)
        del interpreter
        assert held() is None
    finally:
        gc.enable()
