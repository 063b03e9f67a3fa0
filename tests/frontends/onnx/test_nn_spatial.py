"""ConvTranspose, pooling, Resize/Upsample, DepthToSpace/SpaceToDepth against onnxruntime in LiteRT
and edgelite, over their attribute variants; the variants TFLite cannot express are refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from edgelite.errors import ConversionError
from tests.frontends.onnx.common import check_onnx, make_model, opcodes, rng_inputs

F = TensorProto.FLOAT
RNG = np.random.default_rng(5)


def w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def single(op: str, x_shape, inputs=("x",), inits=None, opset: int = 17, **attrs):
    node = helper.make_node(op, list(inputs), ["y"], **attrs)
    x_dims = x_shape
    return make_model([node], [("x", x_dims, F)], ["y"], inits or {}, opset=opset)


def transposes(model) -> int:
    return opcodes(model).count("TRANSPOSE")


# -- ConvTranspose ---------------------------------------------------------------------------

@pytest.mark.parametrize("attrs", [
    {},
    {"strides": [2, 2]},
    {"strides": [2, 2], "pads": [1, 1, 1, 1]},
    {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
    {"strides": [2, 1], "pads": [0, 1, 2, 0]},
    {"strides": [3, 2], "output_padding": [2, 1]},
    {"strides": [2, 2], "auto_pad": "SAME_UPPER"},
    {"strides": [2, 2], "auto_pad": "SAME_LOWER"},
    {"strides": [2, 2], "auto_pad": "VALID"},
    {"strides": [2, 2], "output_shape": [10, 9]},
    {"strides": [2, 2], "output_shape": [10, 9], "auto_pad": "SAME_UPPER"},
    {"dilations": [2, 1], "strides": [2, 2], "pads": [1, 0, 1, 1]},
], ids=str)
def test_conv_transpose(attrs):
    model = single("ConvTranspose", (1, 4, 5, 5), ("x", "w", "b"), {"w": w(4, 3, 3, 3), "b": w(3)}, **attrs)
    converted = check_onnx(model, rng_inputs({"x": (1, 4, 5, 5)}))
    assert "TRANSPOSE_CONV" in opcodes(converted)


@given(size=st.integers(2, 6), kernel=st.integers(1, 4), stride=st.integers(1, 3),
       pad_begin=st.integers(0, 2), pad_end=st.integers(0, 2), extra=st.integers(0, 2))
@settings(max_examples=15, deadline=None)
def test_conv_transpose_geometry(size, kernel, stride, pad_begin, pad_end, extra):
    pad_begin, pad_end = min(pad_begin, kernel - 1), min(pad_end, kernel - 1)
    extra = min(extra, stride - 1)
    # ONNX has no empty output: the padded crop must leave at least one pixel on each axis.
    assume((size - 1) * stride + kernel - pad_begin - pad_end + extra > 0)
    model = single("ConvTranspose", (1, 2, size, size + 1), ("x", "w"), {"w": w(2, 3, kernel, kernel)},
                   strides=[stride, stride], pads=[pad_begin, pad_end, pad_end, pad_begin],
                   output_padding=[extra, 0])
    check_onnx(model, rng_inputs({"x": (1, 2, size, size + 1)}))


def test_conv_transpose_output_shape_past_the_extent():
    """An output_shape larger than the full transposed conv: zeros (plus bias) at the end."""
    model = single("ConvTranspose", (1, 2, 3, 3), ("x", "w", "b"), {"w": w(2, 3, 3, 3), "b": w(3)},
                   strides=[3, 2], output_shape=[10, 8])
    check_onnx(model, rng_inputs({"x": (1, 2, 3, 3)}))


def test_conv_transpose_1d_no_bias():
    model = single("ConvTranspose", (1, 3, 7), ("x", "w"), {"w": w(3, 2, 4)}, strides=[2], pads=[1, 1])
    check_onnx(model, rng_inputs({"x": (1, 3, 7)}))


def test_conv_transpose_dynamic_batch():
    model = single("ConvTranspose", ("N", 2, 4, 4), ("x", "w", "b"), {"w": w(2, 3, 2, 2), "b": w(3)},
                   strides=[2, 2])
    check_onnx(model, rng_inputs({"x": (3, 2, 4, 4)}))


def test_conv_transpose_groups_are_unsupported():
    model = single("ConvTranspose", (1, 4, 5, 5), ("x", "w"), {"w": w(4, 1, 3, 3)}, group=4)
    with pytest.raises(ConversionError, match="group=4"):
        check_onnx(model, {})


# -- pooling ---------------------------------------------------------------------------------

POOL_ATTRS = [
    {"kernel_shape": [2, 2], "strides": [2, 2]},
    {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]},
    {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
    {"kernel_shape": [3, 2], "strides": [2, 1], "pads": [0, 1, 2, 0]},
    {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"},
    {"kernel_shape": [2, 2], "strides": [2, 2], "auto_pad": "SAME_LOWER"},
    {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "VALID"},
    {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1},
    {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
    {"kernel_shape": [3, 2], "strides": [2, 3], "pads": [0, 1, 0, 1], "ceil_mode": 1},
]


@pytest.mark.parametrize("attrs", POOL_ATTRS, ids=str)
def test_max_pool(attrs):
    converted = check_onnx(single("MaxPool", (1, 3, 8, 9), **attrs), rng_inputs({"x": (1, 3, 8, 9)}))
    assert "MAX_POOL_2D" in opcodes(converted)


@pytest.mark.parametrize("include_pad", [0, 1])
@pytest.mark.parametrize("attrs", POOL_ATTRS, ids=str)
def test_average_pool(attrs, include_pad):
    model = single("AveragePool", (1, 3, 8, 9), count_include_pad=include_pad, **attrs)
    converted = check_onnx(model, rng_inputs({"x": (1, 3, 8, 9)}))
    assert "AVERAGE_POOL_2D" in opcodes(converted)


PAIR = st.tuples(st.integers(1, 4), st.integers(1, 4))


@given(op=st.sampled_from(["MaxPool", "AveragePool"]), size=st.tuples(st.integers(3, 9), st.integers(3, 9)),
       kernel=PAIR, stride=PAIR,
       pads=st.tuples(*[st.integers(0, 3)] * 4), ceil_mode=st.booleans(), include_pad=st.booleans())
@settings(max_examples=25, deadline=None)
def test_pool_geometry(op, size, kernel, stride, pads, ceil_mode, include_pad):
    pads = [min(p, kernel[i % 2] - 1) for i, p in enumerate(pads)]  # onnxruntime wants pads < kernel
    attrs = {"kernel_shape": list(kernel), "strides": list(stride), "pads": pads, "ceil_mode": int(ceil_mode)}
    if op == "AveragePool":
        attrs["count_include_pad"] = int(include_pad)
    model = single(op, (1, 2, *size), **attrs)
    assume(all(n + pads[i] + pads[i + 2] >= kernel[i] for i, n in enumerate(size)))
    try:
        check_onnx(model, rng_inputs({"x": (1, 2, *size)}))
    except ConversionError as error:  # ONNX's shape inference keeps a window onnxruntime drops
        assert "ceil_mode: ONNX shape inference" in str(error)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pool_1d_and_dynamic_batch(op):
    model = single(op, (1, 2, 9), kernel_shape=[3], strides=[2], pads=[1, 1])
    check_onnx(model, rng_inputs({"x": (1, 2, 9)}))
    model = single(op, ("N", 2, 6, 6), kernel_shape=[2, 2], strides=[2, 2])
    check_onnx(model, rng_inputs({"x": (3, 2, 6, 6)}))


@pytest.mark.parametrize("attrs,outputs,reason", [
    ({"dilations": [2, 2]}, ["y"], "dilations"),
    ({}, ["y", ("indices", None, TensorProto.INT64)], "Indices"),
    ({"strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1}, ["y"], "ceil_mode"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_max_pool_unsupported_variants(attrs, outputs, reason):
    node = helper.make_node("MaxPool", ["x"], [o if isinstance(o, str) else o[0] for o in outputs],
                            kernel_shape=[2, 2], **attrs)
    model = make_model([node], [("x", (1, 1, 6, 7), F)], outputs)
    with pytest.raises(ConversionError, match=reason):
        check_onnx(model, {})


@pytest.mark.parametrize("op,opcode", [("GlobalAveragePool", "MEAN"), ("GlobalMaxPool", "REDUCE_MAX")])
@pytest.mark.parametrize("x_shape", [(2, 3, 5, 4), (1, 3, 7), ("N", 3, 4, 4)], ids=str)
def test_global_pools(op, opcode, x_shape):
    feed = tuple(2 if d == "N" else d for d in x_shape)
    converted = check_onnx(single(op, x_shape), rng_inputs({"x": feed}))
    assert opcodes(converted) == [opcode]


# -- Resize / Upsample -----------------------------------------------------------------------

def resize_model(x_shape, scales=None, sizes=None, opset=17, **attrs):
    inits = {"roi": np.zeros(0, np.float32)}
    inputs = ["x", "roi"]
    if scales is not None:
        inits["scales"] = np.asarray(scales, np.float32)
        inputs.append("scales")
    else:
        inputs.append("")
        inits["sizes"] = np.asarray(sizes, np.int64)
        inputs.append("sizes")
    return single("Resize", x_shape, inputs, inits, opset=opset, **attrs)


RESIZE_CASES = [
    ("nearest", "asymmetric", "floor", [1, 1, 2, 2], None),
    ("nearest", "half_pixel", "round_prefer_floor", [1, 1, 2, 3], None),
    ("nearest", "half_pixel", "round_prefer_ceil", None, [1, 3, 5, 7]),
    ("nearest", "tf_half_pixel_for_nn", "floor", None, [1, 3, 9, 4]),
    ("nearest", "align_corners", "round_prefer_ceil", None, [1, 3, 7, 11]),
    ("nearest", "asymmetric", "round_prefer_floor", [1, 1, 2, 2], None),
    ("nearest", "pytorch_half_pixel", "round_prefer_floor", [1, 1, 2, 2], None),
    ("linear", "half_pixel", None, [1, 1, 2, 2], None),
    ("linear", "half_pixel", None, None, [1, 3, 5, 3]),
    ("linear", "pytorch_half_pixel", None, [1, 1, 2, 3], None),
    ("linear", "align_corners", None, None, [1, 3, 9, 6]),
    ("linear", "asymmetric", None, [1, 1, 3, 2], None),
    ("linear", "half_pixel_symmetric", None, None, [1, 3, 8, 8]),
]


@pytest.mark.parametrize("mode,coord,nearest,scales,sizes", RESIZE_CASES, ids=str)
def test_resize(mode, coord, nearest, scales, sizes):
    attrs = {"mode": mode, "coordinate_transformation_mode": coord}
    if nearest:
        attrs["nearest_mode"] = nearest
    opset = 19 if coord == "half_pixel_symmetric" else 13
    converted = check_onnx(resize_model((1, 3, 4, 6), scales, sizes, opset=opset, **attrs),
                           rng_inputs({"x": (1, 3, 4, 6)}))
    opcode = "RESIZE_NEAREST_NEIGHBOR" if mode == "nearest" else "RESIZE_BILINEAR"
    assert opcodes(converted).count(opcode) == 1


def test_resize_keep_aspect_ratio_policy():
    attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    for policy in ("not_larger", "not_smaller"):  # one scale for both axes: 1.5 or 2
        model = resize_model((1, 2, 4, 6), sizes=[8, 9], opset=18, axes=[2, 3],
                             keep_aspect_ratio_policy=policy, **attrs)
        check_onnx(model, rng_inputs({"x": (1, 2, 4, 6)}))
    model = resize_model((1, 2, 4, 6), sizes=[7, 8], opset=18, axes=[2, 3],
                         keep_aspect_ratio_policy="not_smaller", **attrs)  # 6 -> 11 by 1.75, TFLite by 6 / 11
    with pytest.raises(ConversionError, match="samples differently"):
        check_onnx(model, {})


def test_resize_runtime_sizes_of_a_skip_connection():
    """U-Net style: resize to another tensor's (dynamic) H and W, sizes computed from its Shape."""
    nodes = [helper.make_node("Shape", ["skip"], ["skip_shape"]),
             helper.make_node("Shape", ["x"], ["x_shape"]),
             helper.make_node("Slice", ["skip_shape", "two", "four"], ["hw"]),
             helper.make_node("Slice", ["x_shape", "zero", "two"], ["nc"]),
             helper.make_node("Concat", ["nc", "hw"], ["sizes"], axis=0),
             helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest",
                              coordinate_transformation_mode="asymmetric", nearest_mode="floor")]
    inits = {k: np.asarray([v], np.int64) for k, v in (("zero", 0), ("two", 2), ("four", 4))}
    model = make_model(nodes, [("x", (1, 3, "h", "w"), F), ("skip", (1, 5, "H", "W"), F)], ["y"], inits)
    converted = check_onnx(model, rng_inputs({"x": (1, 3, 3, 4), "skip": (1, 5, 6, 8)}))
    assert "RESIZE_NEAREST_NEIGHBOR" in opcodes(converted)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_dynamic_image_size(mode):
    model = resize_model(("N", 3, "H", "W"), [1, 1, 2, 2], mode=mode,
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    check_onnx(model, rng_inputs({"x": (2, 3, 5, 4)}))


def test_resize_opset18_axes():
    model = resize_model((1, 2, 4, 4), [2.0, 3.0], opset=18, axes=[2, 3], mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    check_onnx(model, rng_inputs({"x": (1, 2, 4, 4)}))


@pytest.mark.parametrize("case", [
    ({"mode": "cubic"}, [1, 1, 2, 2], "cubic"),
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "ceil"},
     [1, 1, 2, 2], "samples differently"),
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "round_prefer_ceil"},
     [1, 1, 3, 3], "samples differently"),
    ({"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize"}, [1, 1, 2, 2], "tf_crop"),
    ({"mode": "linear"}, [1, 2, 2, 2], "scales"),
    ({"mode": "linear", "antialias": 1}, [1, 1, 0.5, 0.5], "antialias"),
    ({"mode": "linear", "coordinate_transformation_mode": "align_corners"}, [1, 1, 0.6, 0.6],
     "onnxruntime and the ONNX reference differ"),
    ({"mode": "linear"}, [1, 1, 0.6, 0.6], "samples differently"),
], ids=lambda c: c[2])
def test_resize_unsupported(case):
    attrs, scales, reason = case
    model = resize_model((1, 3, 4, 4), scales, opset=18, **attrs)
    with pytest.raises(ConversionError, match=reason):
        check_onnx(model, {})


@pytest.mark.parametrize("mode,opset,scales", [("nearest", 9, [1, 1, 2, 3]), ("linear", 9, [1, 1, 2, 2]),
                                               ("nearest", 10, [1, 1, 3, 2])], ids=str)
def test_upsample_and_resize10(mode, opset, scales):
    op = "Upsample" if opset < 10 else "Resize"
    model = single(op, (1, 2, 3, 4), ("x", "scales"), {"scales": np.asarray(scales, np.float32)},
                   opset=opset, mode=mode)
    check_onnx(model, rng_inputs({"x": (1, 2, 3, 4)}))


# -- DepthToSpace / SpaceToDepth -------------------------------------------------------------

@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space(mode):
    converted = check_onnx(single("DepthToSpace", (1, 8, 3, 2), blocksize=2, mode=mode),
                           rng_inputs({"x": (1, 8, 3, 2)}))
    assert "DEPTH_TO_SPACE" in opcodes(converted)


def test_space_to_depth_crd_mode():
    """SpaceToDepth's mode (opset 28) is newer than onnxruntime: checked against numpy."""
    from edgelite.frontends.onnx.importer import convert
    from tests.frontends.onnx.common import edgelite_interpreter, litert_interpreter, run_tflite

    x = rng_inputs({"x": (2, 3, 4, 6)})["x"]
    n, c, h, wd = x.shape
    blocks = x.reshape(n, c, h // 2, 2, wd // 2, 2).transpose(0, 1, 3, 5, 2, 4)
    want = blocks.reshape(n, c * 4, h // 2, wd // 2)
    data = convert(single("SpaceToDepth", x.shape, opset=28, blocksize=2, mode="CRD")).to_bytes()
    for make in (edgelite_interpreter, litert_interpreter):
        np.testing.assert_array_equal(run_tflite(make(data), {"x": x})[0], want)


def test_space_to_depth_round_trip_has_no_transposes_inside():
    nodes = [helper.make_node("SpaceToDepth", ["x"], ["s"], blocksize=2),
             helper.make_node("Relu", ["s"], ["r"]),
             helper.make_node("DepthToSpace", ["r"], ["y"], blocksize=2)]
    model = make_model(nodes, [("x", (1, 3, 4, 6), F)], ["y"])
    converted = check_onnx(model, rng_inputs({"x": (1, 3, 4, 6)}))
    assert transposes(converted) <= 2
