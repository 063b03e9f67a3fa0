"""One runtime under benchmark, in a process of its own (`python -m edgelite.tools._bench_worker`).

Its own process makes the peak resident memory honest: it counts that runtime only. The parent
(`_bench_session`) sends pickled requests on stdin and reads pickled replies on stdout:
a spec (load, allocate, set inputs, first and warm-up runs), then ("run", max_runs, max_seconds)
chunks that it alternates between runtimes, then ("finish",) for outputs, peak memory and profile.
Times are measured here, around the invoke call only.
"""

from __future__ import annotations

import os
import pickle
import sys
from time import perf_counter_ns
from typing import Any

from edgelite.tools._bench_system import EnergyCounter, current_rss, peak_rss


class _TFLiteAPI:
    """What edgelite and LiteRT share: the tf.lite Interpreter API for inputs and outputs."""

    interpreter: Any
    spec: dict[str, Any]

    def set_inputs(self) -> None:
        for index, value in self.spec["inputs"]:
            self.interpreter.set_tensor(index, value)

    def outputs(self) -> list[Any]:
        interpreter = self.interpreter
        return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


class EdgeliteRuntime(_TFLiteAPI):
    """edgelite's Interpreter (the spec's executor, native by default), per-node times from its hook."""

    def __init__(self, spec: dict[str, Any]) -> None:
        import edgelite
        from edgelite.runtime.interpreter import Interpreter

        self.spec, self.version, self._interpreter_class = spec, edgelite.__version__, Interpreter

    def load(self) -> None:
        from edgelite.runtime.native import NativeExecutor

        self.interpreter = interpreter = self._interpreter_class(
            model_path=self.spec["model"], num_threads=self.spec["threads"],
            experimental_executor=self.spec.get("executor"))
        _allocate(interpreter, self.spec["inputs"])
        self.executor = interpreter._executor  # the profile hook is the executor's, not tf.lite API
        self.arena_bytes = interpreter.plan.arena_size
        self.executor_name = "native" if isinstance(self.executor, NativeExecutor) else "reference"

    def invoke(self, profile: list[int] | None) -> None:
        if profile is None:
            self.interpreter.invoke()
        else:
            self.executor.invoke(profile)

    def nodes(self) -> list[tuple[int, str, list[int] | None]]:
        plan = self.interpreter.plan
        return [(p.node.index, p.node.op.name, _shape(plan.shapes[p.node.op.outputs[0]]) if p.node.op.outputs
                 else None) for p in plan.nodes]


class LiteRTRuntime(_TFLiteAPI):
    """ai-edge-litert's Interpreter with its default op resolver (XNNPACK) and the same threads."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from importlib.metadata import version

        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise RuntimeError("LiteRT is not installed: pip install ai-edge-litert "
                               "(or benchmark without --compare litert)") from error
        self.spec, self.version, self._interpreter_class = spec, version("ai-edge-litert"), Interpreter

    def load(self) -> None:
        self.interpreter = self._interpreter_class(model_path=self.spec["model"],
                                                   num_threads=self.spec["threads"])
        _allocate(self.interpreter, self.spec["inputs"])
        self.arena_bytes = None

    def invoke(self, profile: list[int] | None) -> None:
        self.interpreter.invoke()


class OnnxRuntime:
    """onnxruntime's CPU provider on the .onnx file; inputs by position (NHWC -> NCHW when needed)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        try:
            import onnxruntime
        except ImportError as error:
            raise RuntimeError("onnxruntime is not installed: pip install onnxruntime") from error
        self.spec, self.version, self._ort = spec, onnxruntime.__version__, onnxruntime
        self.arena_bytes = None

    def load(self) -> None:
        options = self._ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = self.spec["threads"], 1
        self.session = self._ort.InferenceSession(self.spec["onnx"], options,
                                                  providers=["CPUExecutionProvider"])
        declared = self.session.get_inputs()
        if len(declared) != len(self.spec["inputs"]):
            raise ValueError(f"the .onnx model has {len(declared)} inputs, the .tflite model "
                             f"{len(self.spec['inputs'])}")
        self.feeds = {d.name: _onnx_input(d, value) for d, (_, value) in zip(declared, self.spec["inputs"],
                                                                             strict=True)}

    def set_inputs(self) -> None:
        pass

    def invoke(self, profile: list[int] | None) -> None:
        self.last = self.session.run(None, self.feeds)

    def outputs(self) -> list[Any]:
        return list(self.last)


RUNTIMES = {"edgelite": EdgeliteRuntime, "litert": LiteRTRuntime, "onnxruntime": OnnxRuntime}


def _shape(shape: Any) -> list[int] | None:
    return None if shape is None else [int(d) for d in shape]


def _allocate(interpreter: Any, inputs: list[tuple[int, Any]]) -> None:
    """Resize inputs whose given value has another shape than the planned one, then allocate."""
    planned = {d["index"]: tuple(d["shape"]) for d in interpreter.get_input_details()}
    for index, value in inputs:
        if planned.get(index) != value.shape:
            interpreter.resize_tensor_input(index, list(value.shape))
    interpreter.allocate_tensors()


def _onnx_input(declared: Any, value: Any) -> Any:
    """A .tflite input fed to onnxruntime: cast to its type, NHWC -> NCHW if only that fits."""
    import numpy as np

    dtype = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
             "tensor(int32)": np.int32, "tensor(int8)": np.int8, "tensor(uint8)": np.uint8}.get(declared.type)
    value = value.astype(dtype) if dtype is not None else value
    wanted = [d if isinstance(d, int) else None for d in declared.shape]
    nchw = np.transpose(value, (0, 3, 1, 2)) if value.ndim == 4 else value
    if not _fits(value.shape, wanted) and _fits(nchw.shape, wanted):
        value = np.ascontiguousarray(nchw)
    return value


def _fits(shape: tuple[int, ...], wanted: list[int | None]) -> bool:
    return len(shape) == len(wanted) and all(w in (None, s) for w, s in zip(wanted, shape, strict=True))


class Worker:
    """Holds one loaded runtime and answers the parent's requests."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.energy = EnergyCounter()
        self.runtime = RUNTIMES[spec["runtime"]](spec)
        self.profile_ns: list[int] | None = None
        self.profile_runs = 0

    def start(self) -> dict[str, Any]:
        """Load + allocate (timed), set inputs, then the first and the warm-up inferences."""
        runtime, baseline = self.runtime, current_rss()
        start = perf_counter_ns()
        runtime.load()
        init_ns = perf_counter_ns() - start
        runtime.set_inputs()
        first_ns = self._timed(None)
        warmup_ns = [self._timed(None) for _ in range(self.spec["warmup"])]
        nodes = runtime.nodes() if self.spec["profile"] and hasattr(runtime, "nodes") else None
        if nodes is not None:
            self.profile_ns = [0] * len(nodes)
        return {"ok": True, "version": runtime.version, "init_ns": init_ns, "first_ns": first_ns,
                "warmup_ns": warmup_ns, "arena_bytes": runtime.arena_bytes, "rss_before_load": baseline,
                "energy_reason": self.energy.reason, "nodes": nodes,
                "executor": getattr(runtime, "executor_name", None)}

    def _timed(self, profile: list[int] | None) -> int:
        start = perf_counter_ns()
        self.runtime.invoke(profile)
        return perf_counter_ns() - start

    def run(self, max_runs: int, max_seconds: float) -> dict[str, Any]:
        """At least one and at most `max_runs` inferences, stopping once `max_seconds` have passed."""
        latencies: list[int] = []
        deadline = perf_counter_ns() + int(max_seconds * 1e9)
        before = self.energy.read() if self.energy.available else None
        while len(latencies) < max_runs:
            latencies.append(self._timed(None))
            if self.profile_ns is not None:  # an extra run for the per-node times: they cost time too
                profile: list[int] = []
                self.runtime.invoke(profile)
                self.profile_ns = [a + b for a, b in zip(self.profile_ns, profile, strict=True)]
                self.profile_runs += 1
            if perf_counter_ns() >= deadline:
                break
        joules = self.energy.joules_between(before, self.energy.read()) if before is not None else None
        if joules is not None and self.profile_ns is not None:
            joules /= 2  # about half: as many profiled runs as timed ones ran in between
        return {"latencies_ns": latencies, "joules": joules}

    def finish(self) -> dict[str, Any]:
        return {"outputs": self.runtime.outputs(), "peak_rss": peak_rss(), "profile_ns": self.profile_ns,
                "profile_runs": self.profile_runs}


def main() -> None:
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a runtime prints goes to stderr, never into the reply stream
    sys.stdout = sys.stderr

    def reply(message: dict[str, Any]) -> None:
        pickle.dump(message, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()

    try:
        worker = Worker(pickle.load(requests))
        reply(worker.start())
    except Exception as error:  # reported to the parent, which turns it into a one-line message
        reply({"ok": False, "error": " ".join(f"{type(error).__name__}: {error}".split())})
        return
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        try:
            if request[0] == "finish":
                reply(worker.finish())
                return
            reply(worker.run(request[1], request[2]))
        except Exception as error:
            reply({"ok": False, "error": " ".join(f"{type(error).__name__}: {error}".split())})
            return


if __name__ == "__main__":
    main()
