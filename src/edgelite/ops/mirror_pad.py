"""MIRROR_PAD: pad input 0 with its own mirror image, excluding (REFLECT) or including
(SYMMETRIC) the edge element."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._shape import MOVEMENT, check_index_type, check_movement, model_error, options_of, paddings
from edgelite.ops.base import Node, OpDef


class MirrorPadMode(enum.IntEnum):
    REFLECT = 0
    SYMMETRIC = 1


@dataclass
class MirrorPadOptions:
    table: ClassVar[str] = "MirrorPadOptions"
    mode: MirrorPadMode = MirrorPadMode.REFLECT


def _pairs(node: Node) -> list | None:
    dims, mode = node.input_shapes[0], options_of(node, MirrorPadOptions).mode
    pairs = paddings(node, 1, len(dims))
    limit = lambda d: d - 1 if mode == MirrorPadMode.REFLECT else d  # noqa: E731
    if pairs is not None and any(max(p) > limit(d) for d, p in zip(dims, pairs, strict=True)):
        raise model_error(node, f"paddings {pairs} exceed what {mode.name} can mirror from an "
                          f"input of shape {tuple(dims)}")
    return pairs


def shape(node: Node) -> list:
    pairs = _pairs(node)
    if pairs is None:
        return [None]
    return [tuple(d + a + b for d, (a, b) in zip(node.input_shapes[0], pairs, strict=True))]


def check(node: Node) -> None:
    check_index_type(node, 1)
    if options_of(node, MirrorPadOptions).mode not in tuple(MirrorPadMode):
        raise node.unsupported(f"unknown mirror pad mode {node.options.mode}")
    check_movement(node)


def run(node: Node) -> None:
    mode = "reflect" if options_of(node, MirrorPadOptions).mode == MirrorPadMode.REFLECT else "symmetric"
    node.outputs[0][...] = np.pad(node.inputs[0], _pairs(node), mode=mode)


OP = OpDef("MIRROR_PAD", run, shape=shape, check=check, types=MOVEMENT, options=MirrorPadOptions)
