#!/usr/bin/env python3
"""Run every ONNX backend node test through EdgeliteBackend and regenerate the list files.

    python scripts/update_onnx_allowlist.py            # run all, rewrite both lists, print the report
    python scripts/update_onnx_allowlist.py --dry-run  # run all, print the report only
    python scripts/update_onnx_allowlist.py -k conv    # only tests whose name contains 'conv' (dry run)
    python scripts/update_onnx_allowlist.py --from-json run.json  # re-classify a saved run

Each test is converted once and run in edgelite and in LiteRT (ai_edge_litert); it passes when both
match ONNX's expected outputs at the test's rtol/atol (1e-3 / 1e-7). When a converter needs a
parameter constant (axes, pads, ...) that the test feeds as a graph input, that input is baked
into the model (EdgeliteBackend's constant_inputs) and the allow-list line says so. The others:

  excluded     TFLite cannot express it: a reason from the graph (sequence/optional values, training,
               ai.onnx.ml, random, string/float8/float64/... dtypes), a converter's Unsupported
               reason, or one written by hand below node_excluded.txt's BY_HAND line (kept while
               the test fails; the lines above it are regenerated)
  unsupported  no converter for the op type yet, or a converter limit (LIMITATIONS: a constant
               needed where the test computes one at run time, an unknown rank)
  bug          conversion error, runtime error, crash, timeout, or outputs that differ

tests/frontends/onnx/node_allowlist.txt gets the passing tests; node_excluded.txt the excluded
ones as `name  # reason`. Tests run in subprocess workers (-j, default: all cores) so a crash or
a hang (--timeout) costs one test. --json saves every test's outcome for --from-json.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "src"))

from tests.frontends.onnx import backend_suite  # noqa: E402

# Unsupported reasons that are the converter's limits (values or shapes known only at run time),
# not TFLite's: such tests count as unsupported, not excluded.
LIMITATIONS = ("must be a constant", "computed at run time", "unknown rank", "of unknown length",
               "out of range for rank 0")


def _first_line(text: str, limit: int = 160) -> str:
    line = next((s.strip() for s in str(text).splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


_ENTRY = re.compile(r"'((?:[^'\\]|\\.)*)' \(((?:[^()]|\([^()]*\))*)\)")
_NEEDS_CONSTANT = re.compile(r"input (\d+) \(.*\) must be a constant")


def _unsupported(message: str) -> list[tuple[str, str, str]]:
    """(op type, node name, reason) for each node of the importer's 'cannot be converted' message."""
    found = []
    for line in message.splitlines()[1:]:
        match = re.match(r"\s+(\S+): (.*)$", line)
        if match:
            op_type, nodes = match.groups()
            found += [(op_type, name, reason) for name, reason in _ENTRY.findall(nodes)]
    return found


def _runtime_parameters(model, entries: list[tuple[str, str, str]]) -> set[str]:
    """Graph inputs that a converter needs constant ('input i (...) must be a constant')."""
    graph_inputs = {i.name for i in model.graph.input} - {t.name for t in model.graph.initializer}
    names = set()
    for _, label, reason in entries:
        match = _NEEDS_CONSTANT.search(reason)
        node = next((n for n in model.graph.node if label in (n.name, *n.output[:1])), None)
        if match and node is not None and int(match.group(1)) < len(node.input):
            name = node.input[int(match.group(1))]
            if name in graph_inputs:
                names.add(name)
    return names


def evaluate(name: str, litert: bool = True) -> dict:
    """One node test's outcome: status, reason, op, per-runtime results, seconds.

    A test whose converter needs a parameter (axes, pads, ...) constant that the test feeds as a
    graph input is run again with that input baked in (constant_inputs); the outcome says so."""
    from onnx.backend.test.runner import Runner

    from edgelite.errors import ConversionError
    from edgelite.frontends.onnx.backend import EdgeliteBackend

    start = time.perf_counter()
    case = backend_suite.load_node_case(name)
    result = {"name": name, "op": backend_suite.op_of(name), "static": backend_suite.static_exclusion(case),
              "constant_inputs": []}

    def done(status: str, reason: str = "") -> dict:
        result.update(status=status, reason=reason, seconds=round(time.perf_counter() - start, 3))
        return result

    constants: list[str] = []
    while True:
        try:
            rep = EdgeliteBackend.prepare(case.model, constant_inputs=constants)
            converted = rep.convert(case.inputs)
            break
        except ConversionError as error:
            message = str(error)
            if "cannot be converted" not in message:
                return done("convert-error", _first_line(message))
            entries = _unsupported(message)
            more = sorted(_runtime_parameters(case.model, entries) - set(constants))
            if more:
                constants += more
                result["constant_inputs"] = constants
                continue
            missing = sorted({op for op, _, reason in entries if reason == "no converter"})
            if missing:
                return done("unsupported", "no converter for " + ", ".join(missing))
            reasons = dict.fromkeys(f"{op}: {reason}" for op, _, reason in entries)
            return done("variant", "; ".join(reasons))
        except Exception as error:  # noqa: BLE001 - every failure is classified
            return done("convert-error", f"{type(error).__name__}: {_first_line(error)}")
    result["ops"] = [op.name for op in converted.subgraphs[0].operators]
    for runtime in ("edgelite", "litert") if litert else ("edgelite",):
        try:
            outputs = (rep if runtime == "edgelite" else rep.on(runtime)).run(case.inputs)
        except Exception as error:  # noqa: BLE001
            return done("runtime-error", f"{runtime}: {type(error).__name__}: {_first_line(error)}")
        try:
            Runner.assert_similar_outputs(case.outputs, list(outputs), rtol=case.rtol, atol=case.atol)
        except AssertionError as error:
            text = " ".join(s.strip() for s in str(error).splitlines() if s.strip())
            return done("mismatch", f"{runtime}: {text[:200]}")
    return done("pass")


def worker(names_file: str, out_file: str, litert: bool) -> None:
    """Run the named tests, appending {"start": name} then the outcome per test (JSON lines)."""
    import warnings

    warnings.simplefilter("ignore")
    with open(names_file) as handle:
        names = handle.read().split()
    with open(out_file, "a") as out:
        for name in names:
            out.write(json.dumps({"start": name}) + "\n")
            out.flush()
            try:
                record = evaluate(name, litert)
            except Exception as error:  # noqa: BLE001 - a harness error is reported, not fatal
                record = {"name": name, "op": "?", "status": "convert-error", "static": None,
                          "reason": f"harness: {type(error).__name__}: {_first_line(error)}",
                          "trace": traceback.format_exc()[-2000:]}
            out.write(json.dumps(record) + "\n")
            out.flush()


def _read(out_file: str) -> tuple[dict[str, dict], str | None, float]:
    results, running, since = {}, None, 0.0
    if os.path.exists(out_file):
        with open(out_file) as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break
                record = json.loads(line)
                if "start" in record:
                    running = record["start"]
                else:
                    results[record["name"]] = record
                    running = None
        since = os.path.getmtime(out_file)
    return results, running, since


def run_all(names: list[str], jobs: int, timeout: float, litert: bool,
            progress: bool = True) -> dict[str, dict]:
    """Every test in subprocess workers; a worker that dies or hangs is restarted past its test."""
    tmp = tempfile.mkdtemp(prefix="edgelite-onnx-run-")
    shards = [names[i::jobs] for i in range(jobs)]
    results: dict[str, dict] = {}
    procs: dict[int, tuple[subprocess.Popen, str, list[str]]] = {}
    launches = 0

    def launch(slot: int, todo: list[str]) -> None:
        nonlocal launches
        launches += 1
        names_file = os.path.join(tmp, f"names-{slot}-{launches}.txt")
        out_file = os.path.join(tmp, f"out-{slot}-{launches}.jsonl")
        with open(names_file, "w") as handle:
            handle.write("\n".join(todo))
        command = [sys.executable, os.path.abspath(__file__), "--worker", names_file, out_file]
        if not litert:
            command.append("--no-litert")
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs[slot] = (proc, out_file, todo)

    for slot, shard in enumerate(shards):
        if shard:
            launch(slot, shard)
    started = time.time()
    while procs:
        time.sleep(0.2)
        for slot, (proc, out_file, todo) in list(procs.items()):
            found, running, since = _read(out_file)
            results.update(found)
            code = proc.poll()
            hung = running is not None and code is None and time.time() - since > timeout
            if hung:
                proc.kill()
                proc.wait()
                code = proc.returncode
            if code is None:
                continue
            found, running, _ = _read(out_file)
            results.update(found)
            del procs[slot]
            rest = [n for n in todo if n not in results]
            if rest:
                victim = running or rest[0]
                status = "timeout" if hung else "crash"
                reason = f"no result after {timeout:.0f} s" if hung else f"worker exited with {code}"
                results[victim] = {"name": victim, "op": "?", "status": status, "reason": reason,
                                   "static": None}
                rest = [n for n in rest if n != victim]
                if rest:
                    launch(slot, rest)
        if progress:
            elapsed = time.time() - started
            print(f"\r{len(results)}/{len(names)} tests, {elapsed:.0f} s", end="", file=sys.stderr)
    if progress:
        print(file=sys.stderr)
    for record in results.values():  # ops of crashed tests, in this process
        if record.get("op") == "?":
            try:
                record["op"] = backend_suite.op_of(record["name"])
                case = backend_suite.load_node_case(record["name"])
                record["static"] = backend_suite.static_exclusion(case)
            except Exception:  # noqa: BLE001
                pass
    return results


def classify(results: dict[str, dict], manual: dict[str, str]) -> dict[str, tuple[str, str]]:
    """name -> (category, reason): pass / excluded / unsupported / bug."""
    out = {}
    for name, record in results.items():
        status = record["status"]
        if status == "pass":
            out[name] = ("pass", "")
        elif record.get("static") and status != "mismatch":  # wrong numbers are a bug whatever the type
            out[name] = ("excluded", record["static"])
        elif manual.get(name):
            out[name] = ("excluded", manual[name])
        elif status == "variant" and any(m in record["reason"] for m in LIMITATIONS):
            out[name] = ("unsupported", f"converter limitation: {record['reason']}")
        elif status == "variant":
            out[name] = ("excluded", f"converter: {record['reason']}")
        elif status == "unsupported":
            out[name] = ("unsupported", record["reason"])
        else:
            out[name] = ("bug", f"{status}: {record['reason']}")
    return out


def report(results: dict[str, dict], classes: dict[str, tuple[str, str]]) -> str:
    families: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    reasons: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, (category, reason) in classes.items():
        op = results[name].get("op", "?")
        families[op][category] += 1
        if category != "pass":
            reasons[op][_short(category, reason)] += 1
    data = backend_suite.data_cases()
    lines = []
    for label, names in (("node tests", [n for n in classes if n not in data]),
                         ("data model tests", [n for n in classes if n in data])):
        totals = collections.Counter(classes[n][0] for n in names)
        lines.append(f"{label}: {len(names)}  passed {totals['pass']}  excluded {totals['excluded']}  "
                     f"unsupported {totals['unsupported']}  bug {totals['bug']}")
    lines += ["", f"{'op family':28} {'pass':>5} {'excl':>5} {'unsup':>5} {'bug':>5}  reasons (count)"]
    for op in sorted(families, key=lambda o: (o.endswith(" models"), "." in o, o)):
        c = families[op]
        why = "; ".join(f"{r} ({n})" for r, n in reasons[op].most_common(3))
        lines.append(f"{op:28} {c['pass']:5} {c['excluded']:5} {c['unsupported']:5} {c['bug']:5}  {why}")
    for category, title in (("excluded", "excluded by reason"), ("unsupported", "unsupported by reason")):
        counts = collections.Counter(r for c, r in classes.values() if c == category)
        lines += ["", f"{title}:"] + [f"  {n:5}  {r[:150]}" for r, n in counts.most_common()]
    bugs = [(n, r) for n, (c, r) in sorted(classes.items()) if c == "bug"]
    if bugs:
        lines += ["", "bugs:"] + [f"  {n}: {r}" for n, r in bugs]
    return "\n".join(lines)


def _short(category: str, reason: str) -> str:
    if category == "bug":
        return reason.split(":")[0] + (": " + reason.split(":")[1].strip() if reason.count(":") > 1 else "")
    if category == "unsupported":
        return "no converter" if reason.startswith("no converter") else reason[:90]
    return reason[:90]


def write_lists(results: dict[str, dict], classes: dict[str, tuple[str, str]]) -> None:
    import onnx

    header = (f"# Generated by scripts/update_onnx_allowlist.py from a run over onnx {onnx.__version__}'s "
              "backend node tests.\n")
    passing = sorted(n for n, (c, _) in classes.items() if c == "pass")
    with open(backend_suite.ALLOWLIST, "w") as handle:
        handle.write(header + "# Node tests that convert and match ONNX's outputs in edgelite and LiteRT; "
                     "each must pass.\n# `name  # constant inputs: a, b`: the test passes with those graph "
                     "inputs (parameters such as axes or pads)\n# baked into the model as constants.\n")
        for name in passing:
            constants = results[name].get("constant_inputs")
            handle.write(f"{name}  # {backend_suite.CONSTANT_INPUTS}{', '.join(constants)}\n" if constants
                         else f"{name}\n")
    manual = backend_suite.read_list(backend_suite.EXCLUDED, by_hand=True)
    excluded = sorted((n, r) for n, (c, r) in classes.items() if c == "excluded" and n not in manual)
    kept = sorted((n, r) for n, r in manual.items() if classes.get(n, ("excluded",))[0] == "excluded")
    with open(backend_suite.EXCLUDED, "w") as handle:
        handle.write(header + "# Node tests TFLite cannot express: `name  # reason`.\n")
        handle.writelines(f"{n}  # {r}\n" for n, r in excluded)
        handle.write(f"\n{backend_suite.BY_HAND}\n")
        handle.writelines(f"{n}  # {r}\n" for n, r in kept)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("-k", "--filter", help="only tests whose name contains this (implies --dry-run)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one test may take")
    parser.add_argument("--no-litert", action="store_true", help="run edgelite only")
    parser.add_argument("--dry-run", action="store_true", help="report only, leave the lists alone")
    parser.add_argument("--json", help="save every test's outcome here")
    parser.add_argument("--from-json", help="classify a saved run instead of running")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, litert=not args.no_litert)
        return 0
    if args.from_json:
        with open(args.from_json) as handle:
            results = json.load(handle)
    else:
        names = backend_suite.node_case_names()
        if args.filter:
            names = [n for n in names if args.filter in n]
        results = run_all(names, max(1, args.jobs), args.timeout, not args.no_litert)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1, sort_keys=True)
    classes = classify(results, backend_suite.read_list(backend_suite.EXCLUDED, by_hand=True))
    print(report(results, classes))
    if not (args.dry_run or args.filter or args.no_litert):
        write_lists(results, classes)
        print(f"\nwrote {os.path.relpath(backend_suite.ALLOWLIST, ROOT)} and "
              f"{os.path.relpath(backend_suite.EXCLUDED, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
