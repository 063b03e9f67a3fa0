"""ONNX backend node tests (onnx.backend.test, from the installed onnx wheel) through EdgeliteBackend.

Every test named in node_allowlist.txt must convert and match ONNX's expected outputs at the
suite's tolerance (rtol 1e-3, atol 1e-7) in edgelite and in LiteRT: a failure is a real failure.
node_excluded.txt names the tests TFLite cannot express, with the reason. Regenerate both from a
full run with `python scripts/update_onnx_allowlist.py` (it also reports the tests in neither list:
missing converters and bugs, per op family).
"""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("onnx")

from tests.frontends.onnx import backend_suite  # noqa: E402

ALLOWED = backend_suite.read_list(backend_suite.ALLOWLIST)
EXCLUDED = backend_suite.read_list(backend_suite.EXCLUDED)
RUNTIMES = ("edgelite", "litert") if importlib.util.find_spec("ai_edge_litert") else ("edgelite",)


@pytest.fixture(scope="module")
def suite_names() -> set[str]:
    return set(backend_suite.node_case_names())


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_node(name: str, suite_names: set[str]) -> None:
    if name not in suite_names:
        pytest.skip(f"onnx {backend_suite.onnx.__version__} has no {name}: regenerate the allow-list")
    case = backend_suite.load_node_case(name)
    backend_suite.run_node_case(case, RUNTIMES, backend_suite.constant_inputs(ALLOWED[name]))


def test_lists_are_consistent(suite_names: set[str]) -> None:
    assert ALLOWED, "node_allowlist.txt is empty"
    both = sorted(set(ALLOWED) & set(EXCLUDED))
    assert not both, f"tests both allowed and excluded: {both}"
    no_reason = sorted(name for name, reason in EXCLUDED.items() if not reason)
    assert not no_reason, f"excluded tests without a reason: {no_reason}"
    unknown = sorted((set(ALLOWED) | set(EXCLUDED)) - suite_names)
    if unknown:
        pytest.skip(f"{len(unknown)} listed tests are not in onnx {backend_suite.onnx.__version__} "
                    f"(e.g. {unknown[:3]}): regenerate the lists")
