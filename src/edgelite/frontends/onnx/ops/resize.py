"""Resize and Upsample: NHWC resizes wrapped in layout transposes.

Resize (nearest or linear over H and W of a 4-D tensor) becomes RESIZE_NEAREST_NEIGHBOR or
RESIZE_BILINEAR with one of TFLite's three coordinate conventions (plain, align_corners,
half_pixel_centers). Which one (if any) reproduces the node is decided by computing both
sides' sampling: the source index (nearest) or interpolation weights (linear) of every output
pixel, onnxruntime's formulas against TFLite's, at the node's sizes (for a dynamic size, over a
range of sizes). So every coordinate_transformation_mode / nearest_mode pair is accepted
exactly where TFLite computes the same thing, and refused with the reason elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value
from edgelite.frontends.onnx.ops.conv_transpose import mark_signature
from edgelite.ops.resize_bilinear import interpolation
from edgelite.ops.resize_nearest_neighbor import source_index

# (align_corners, half_pixel_centers), in order of preference
CANDIDATES = ((False, True), (False, False), (True, False))
PROBE_SIZES = range(1, 25)  # input sizes checked for a dynamic spatial dim
F32 = np.float32
# Run-time sizes are checked at whole-number upsampling and power-of-two downsampling ratios: at
# other ratios the two sides' float32 coordinates (x / (out / in) against x * (in / out)) can
# round apart where the exact coordinate is a whole number (14 -> 2: pixel 6 against pixel 7).
RUNTIME_SIZE_CASES = [(n, o, o / n) for n in PROBE_SIZES for o in PROBE_SIZES
                      if o % n == 0 or (n % o == 0 and (n // o) & (n // o - 1) == 0)]


def _int32(ctx: Context, values, hint: str) -> Value:
    return ctx.constant(np.asarray(values, dtype=np.int32), hint)


def original_coordinate(mode: str, out_size: int, in_size: int, scale: float) -> np.ndarray:
    """onnxruntime's source coordinate of each output pixel (float32 arithmetic)."""
    x, s, length_out, length_in = np.arange(out_size, dtype=F32), F32(scale), F32(out_size), F32(in_size)
    half = F32(0.5)
    if mode == "asymmetric":
        return x / s
    if mode == "tf_half_pixel_for_nn":
        return (x + half) / s
    if mode == "align_corners":
        return np.zeros_like(x) if out_size == 1 else x * (length_in - F32(1)) / (length_out - F32(1))
    if mode == "pytorch_half_pixel":
        return (x + half) / s - half if out_size > 1 else np.zeros_like(x)
    if mode == "half_pixel":
        return (x + half) / s - half
    if mode == "half_pixel_symmetric":
        adjustment = length_out / (s * length_in)
        offset = length_in / F32(2) * (F32(1) - adjustment)
        return offset + (x + half) / s - half
    raise Unsupported(f"coordinate_transformation_mode={mode!r} (TFLite resizes whole images)")


def nearest_index(coord: np.ndarray, nearest_mode: str, in_size: int, downsampling: bool) -> np.ndarray:
    """onnxruntime's nearest source pixel; "simple" is Resize-10 / Upsample's rule."""
    if nearest_mode == "simple":
        index = np.ceil(coord) if downsampling else np.trunc(coord)
    elif nearest_mode == "floor":
        index = np.floor(coord)
    elif nearest_mode == "ceil":
        index = np.ceil(coord)
    elif nearest_mode == "round_prefer_ceil":
        index = np.floor(coord + F32(0.5))
    elif nearest_mode == "round_prefer_floor":
        index = np.ceil(coord - F32(0.5))
    else:
        raise Unsupported(f"nearest_mode={nearest_mode!r}")
    return np.clip(index, 0, in_size - 1).astype(np.int64)


def _onnx_sampling(mode: str, coord_mode: str, nearest_mode: str, in_size: int, out_size: int,
                   scale: float) -> np.ndarray:
    coord = original_coordinate(coord_mode, out_size, in_size, scale)
    if mode == "nearest":
        return nearest_index(coord, nearest_mode, in_size, scale < 1)
    coord = np.clip(coord, 0, in_size - 1)
    lower = np.minimum(coord.astype(np.int64), in_size - 1)
    upper = np.minimum(lower + 1, in_size - 1)
    return _weights(lower, upper, coord - lower, in_size)


def _tflite_sampling(mode: str, in_size: int, out_size: int, align: bool, half: bool) -> np.ndarray:
    if mode == "nearest":
        return source_index(in_size, out_size, align, half)
    lower, upper, frac = interpolation(in_size, out_size, align, half)
    return _weights(lower, upper, frac, in_size)


def _weights(lower: np.ndarray, upper: np.ndarray, frac: np.ndarray, in_size: int) -> np.ndarray:
    """The (out, in) interpolation matrix of per-pixel (lower, upper, upper's weight)."""
    matrix = np.zeros((len(lower), in_size), np.float64)
    rows = np.arange(len(lower))
    np.add.at(matrix, (rows, lower), 1.0 - frac.astype(np.float64))
    np.add.at(matrix, (rows, upper), frac.astype(np.float64))
    return matrix


def tflite_convention(mode: str, coord_mode: str, nearest_mode: str,
                      cases: Sequence[tuple[int, int, float]]) -> tuple[bool, bool]:
    """The (align_corners, half_pixel_centers) sampling like onnxruntime at every (in, out, scale)."""
    furthest = 0  # the case where the convention that matched longest first differs
    for align, half in CANDIDATES:
        for k, (in_size, out_size, scale) in enumerate(cases):
            want = _onnx_sampling(mode, coord_mode, nearest_mode, in_size, out_size, scale)
            got = _tflite_sampling(mode, in_size, out_size, align, half)
            if not (np.array_equal(want, got) if mode == "nearest" else np.allclose(want, got, atol=1e-5)):
                furthest = max(furthest, k)
                break
        else:
            return align, half
    what = f"mode={mode}, coordinate_transformation_mode={coord_mode}"
    what += f", nearest_mode={nearest_mode}" if mode == "nearest" else ""
    in_size, out_size, scale = cases[furthest]
    size = f"{in_size}->{out_size}"
    if abs(F32(scale) * F32(in_size) - out_size) > 1e-5:
        size += f" by scale {scale:g}"
    raise Unsupported(f"{what} samples differently from every TFLite resize convention (at {size})")


def _check_reference_agrees(coord_mode: str, cases_hw: list[list[tuple[int, int, float]]]) -> None:
    """With scales, onnxruntime takes the resized length as the (integer) output size and the ONNX
    reference as in * scale: where the two differ, so do align_corners / pytorch_half_pixel."""
    for in_size, out_size, scale in (case for cases in cases_hw for case in cases):
        length = F32(in_size) * F32(scale)
        if (coord_mode == "align_corners" and out_size > 1 and length != out_size) or \
                (coord_mode == "pytorch_half_pixel" and out_size == 1 and length != 1):
            raise Unsupported(f"coordinate_transformation_mode={coord_mode} with scale {scale:g} of "
                              f"size {in_size}: onnxruntime and the ONNX reference differ (resized length "
                              f"{out_size} or {float(length):g})")


def _full(values: np.ndarray, axes: list[int] | None, rank: int, fill: float) -> list[float]:
    """Scales or sizes for all `rank` axes from the ones given for `axes` (opset 18)."""
    values = [v.item() for v in np.asarray(values).reshape(-1)]
    if axes is None:
        if len(values) != rank:
            raise Unsupported(f"{len(values)} scales/sizes for a rank-{rank} input")
        return values
    full = [fill] * rank
    for axis, value in zip(axes, values, strict=True):
        full[axis % rank] = value
    return full


def resize(ctx: Context, node: onnx.NodeProto, mode: str, coord_mode: str, nearest_mode: str,
           scales: np.ndarray | None, sizes: Value | None, axes: list[int] | None = None) -> None:
    x = ctx.input(node, 0)
    if mode not in ("nearest", "linear"):
        raise Unsupported(f"mode={mode!r} (TFLite resizes nearest or bilinear)")
    if x.rank != 4 or x.dtype != np.float32:
        raise Unsupported(f"a {x.rank}-D {x.dtype} input (4-D float32 NCHW only)")
    dynamic = [x.signature is not None and x.signature[i] == -1 for i in (2, 3)]
    in_hw = list(x.shape[2:])
    if sizes is not None and sizes.is_const:
        full = _full(sizes.const, axes, 4, -1)
        if any(v not in (-1, d) for v, d in zip(full[:2], x.shape[:2], strict=True)):
            raise Unsupported(f"sizes {full} (TFLite resizes H and W only)")
        if any(dynamic):
            raise Unsupported("constant sizes of an input with dynamic H or W (the scale varies)")
        cases_hw = _static_size_cases(ctx, node, in_hw, full, axes)
        out_hw = [cases[0][1] for cases in cases_hw]
        size = _int32(ctx, out_hw, "size")
    elif sizes is not None:
        cases_hw = [RUNTIME_SIZE_CASES] * 2
        try:
            tflite_convention(mode, coord_mode, nearest_mode, cases_hw[0])
        except Unsupported as error:
            raise Unsupported(f"input 3 (sizes) must be a constant: {error}, at run-time sizes") from None
        size = _runtime_sizes(ctx, sizes, axes)
        inferred = ctx.info(node.output[0])[0]
        out_hw = list(inferred[2:]) if inferred is not None else [1, 1]
        dynamic = [True, True]
    else:
        full = _full(scales, axes, 4, 1.0)
        if full[0] != 1 or full[1] != 1:
            raise Unsupported(f"scales {full} (TFLite resizes H and W only)")
        cases_hw = []
        for n, scale, is_dynamic in zip(in_hw, full[2:], dynamic, strict=True):
            probes = PROBE_SIZES if is_dynamic else [n]
            cases_hw.append([(m, int(F32(scale) * F32(m)), scale) for m in probes])
        _check_reference_agrees(coord_mode, cases_hw)
        size = _scaled_size(ctx, x, full[2:], dynamic)
        out_hw = [int(F32(scale) * F32(n)) for n, scale in zip(in_hw, full[2:], strict=True)]
    downsampling = any(o < i for cases in cases_hw for i, o, _ in cases)
    if mode == "linear" and downsampling and ctx.attr(node, "antialias", 0):
        raise Unsupported("antialias when downsampling (TFLite's bilinear resize does not filter)")
    conventions = {tflite_convention(mode, coord_mode, nearest_mode, cases) for cases in cases_hw}
    if len(conventions) != 1:
        conventions = {tflite_convention(mode, coord_mode, nearest_mode, cases_hw[0] + cases_hw[1])}
    align, half = conventions.pop()
    opcode = "RESIZE_NEAREST_NEIGHBOR" if mode == "nearest" else "RESIZE_BILINEAR"
    x_nhwc = ctx.nchw_to_nhwc(x)
    out_hw = [max(o, 1) for o in out_hw]  # at the concrete shape, where dynamic dims are 1
    y = ctx.emit(opcode, [x_nhwc, size], {"align_corners": align, "half_pixel_centers": half}, outputs=1,
                 shapes=[(x_nhwc.shape[0], *out_hw, x_nhwc.shape[3])])[0]
    if not size.is_const:  # the output size is computed at run time
        batch = x_nhwc.signature[0] if x_nhwc.signature is not None else x_nhwc.shape[0]
        spatial = [-1 if d else o for d, o in zip(dynamic, out_hw, strict=True)]
        mark_signature(ctx, y, (batch, *spatial, x_nhwc.shape[3]))
    ctx.nhwc_to_nchw(y)


def _static_size_cases(ctx: Context, node: onnx.NodeProto, in_hw: list[int], full: list[float],
                       axes: list[int] | None) -> list[list[tuple[int, int, float]]]:
    """[(in, out, onnxruntime's scale)] for H and W from constant sizes, keep_aspect_ratio_policy
    applied (one scale for every resized axis: the smallest or largest ratio)."""
    policy = ctx.attr(node, "keep_aspect_ratio_policy", "stretch")
    wanted = [(n, int(v) if v != -1 else n) for n, v in zip(in_hw, full[2:], strict=True)]
    if policy == "stretch":
        return [[(n, o, o / n)] for n, o in wanted]
    if policy not in ("not_larger", "not_smaller"):
        raise Unsupported(f"keep_aspect_ratio_policy={policy!r}")
    resized = [i for i in (2, 3) if axes is None or i in [a % 4 for a in axes]]
    ratios = [F32(wanted[i - 2][1]) / F32(wanted[i - 2][0]) for i in resized]
    scale = min(ratios) if policy == "not_larger" else max(ratios)
    cases = [[(n, int(np.floor(scale * F32(n) + F32(0.5))), float(scale))] if i + 2 in resized
             else [(n, n, 1.0)] for i, (n, _) in enumerate(wanted)]
    inferred = ctx.info(node.output[0])[0]
    if inferred is not None and [c[0][1] for c in cases] != list(inferred[2:]):
        raise Unsupported(f"keep_aspect_ratio_policy={policy}: ONNX shape inference gives {inferred[2:]}, "
                          f"onnxruntime {[c[0][1] for c in cases]}")
    return cases


def _runtime_sizes(ctx: Context, sizes: Value, axes: list[int] | None) -> Value:
    """The int32 (H, W) elements of a run-time int64 sizes vector."""
    positions = [2, 3] if axes is None else [[a % 4 for a in axes].index(i) if i in [a % 4 for a in axes]
                                             else None for i in (2, 3)]
    if None in positions or sizes.shape is None or sizes.shape[0] != (4 if axes is None else len(axes)):
        raise Unsupported("input 3 (sizes) must be a constant unless it holds both H and W")
    hw = ctx.emit("GATHER", [sizes, _int32(ctx, positions, "hw")], {"axis": 0}, outputs=1)[0]
    return ctx.emit("CAST", [hw], outputs=1, dtypes=[np.int32])[0]


def _scaled_size(ctx: Context, x: Value, scales: list[float], dynamic: list[bool]) -> Value:
    """The int32 (H, W) output size: floor(in * scale), read from the input's shape if dynamic."""
    in_hw = list(x.shape[2:])
    if not any(dynamic):
        return _int32(ctx, [int(F32(s) * F32(n)) for n, s in zip(in_hw, scales, strict=True)], "size")
    shape = ctx.emit("SHAPE", [x], outputs=1, dtypes=[np.int32])[0]
    hw = ctx.emit("SLICE", [shape, _int32(ctx, [2], "begin"), _int32(ctx, [2], "size")], outputs=1)[0]
    if all(float(s).is_integer() for s in scales):
        return ctx.emit("MUL", [hw, _int32(ctx, [int(s) for s in scales], "scale")], outputs=1)[0]
    as_float = ctx.emit("CAST", [hw], outputs=1, dtypes=[np.float32])[0]
    scaled = ctx.emit("MUL", [as_float, ctx.constant(np.asarray(scales, np.float32), "scale")], outputs=1)[0]
    return ctx.emit("CAST", [scaled], outputs=1, dtypes=[np.int32])[0]


def _resize_node(node: onnx.NodeProto, ctx: Context) -> None:
    mode = ctx.attr(node, "mode", "nearest")
    if ctx.opset < 11:  # Resize-10: (X, scales), asymmetric, the legacy nearest rule
        resize(ctx, node, mode, "asymmetric", "simple", ctx.const_input(node, 1, "scales"), None)
        return
    scales = ctx.input(node, 2)
    sizes = ctx.input(node, 3)
    if scales is not None and scales.shape is not None and np.prod(scales.shape) == 0:
        scales = None
    if sizes is None and scales is None:
        raise Unsupported("neither scales nor sizes")
    if sizes is not None and not sizes.is_const and ctx.attr(node, "keep_aspect_ratio_policy", "stretch") != \
            "stretch":
        ctx.const_input(node, 3, "sizes")
    axes = ctx.attr(node, "axes", None)
    resize(ctx, node, mode, ctx.attr(node, "coordinate_transformation_mode", "half_pixel"),
           ctx.attr(node, "nearest_mode", "round_prefer_floor"),
           None if sizes is not None else ctx.const_input(node, 2, "scales"), sizes,
           None if axes is None else list(axes))


def _upsample(node: onnx.NodeProto, ctx: Context) -> None:
    mode = ctx.attr(node, "mode", "nearest")
    if ctx.opset < 7:
        raise Unsupported("Upsample-1 (experimental height_scale / width_scale)")
    scales = ctx.attr(node, "scales") if ctx.opset < 9 else ctx.const_input(node, 1, "scales")
    resize(ctx, node, "linear" if mode in ("linear", "bilinear") else mode, "asymmetric", "simple",
           np.asarray(scales, np.float32), None)


CONVERTERS = {
    "Resize": _resize_node,
    "Upsample": _upsample,
}
