"""onnx's BackendTest harness over a chosen subset of node cases, one case at a time.

:class:`NodeCaseRunner` is onnx's ``onnx.backend.test.runner.Runner`` (what ``BackendTest`` is)
with only the node cases asked for registered, so each case runs through onnx's own test function
(``prepare``, ``run`` on every data set, ``assert_similar_outputs`` with the case's rtol/atol).
:func:`run_case` runs one registered case as a unittest and classifies the outcome:

- ``passed``  — the test passed;
- ``refused`` — the backend declined the model with a clear error: our compiler/loader
  (``BackendRefusal``: a CompileError or the runtime's UnsupportedModel/InvalidModel exception)
  or, for ONNX Runtime, a session it cannot create (``OrtRefusal``);
- ``failed``  — anything else: wrong values, shapes or dtypes, an exception while inferring.
"""

from __future__ import annotations

import time
import traceback
import unittest
from collections import defaultdict
from typing import Any

from onnx.backend.test.runner import Runner

DEVICE = "CPU"
#: TestCase.kind -> the category BackendTest files the case under.
CATEGORIES = {"node": "Node", "pytorch-converted": "PyTorchConverted", "pytorch-operator": "PyTorchOperator",
              "simple": "Simple", "real": "Real"}  # fmt: skip


class NodeCaseRunner(Runner):
    """onnx's Runner (BackendTest) holding only the given node cases."""

    def __init__(self, backend: Any, cases: list[Any]) -> None:
        self.backend = backend
        self._parent_module = None
        self._include_patterns = set()
        self._exclude_patterns = set()
        self._xfail_patterns = set()
        self._test_kwargs = {}
        self._test_items = defaultdict(dict)
        self._category = "Node"
        for case in cases:
            self._category = CATEGORIES[case.kind] if case.kind in CATEGORIES else "Node"
            self._add_model_test(case, self._category)

    def test_case_class(self) -> type[unittest.TestCase]:
        return self.test_cases[f"OnnxBackend{self._category}ModelTest"]


class _Result(unittest.TestResult):
    def __init__(self) -> None:
        super().__init__()
        self.outcome = "passed"
        self.error: BaseException | None = None
        self.text = ""

    def addFailure(self, test: Any, err: Any) -> None:
        self.outcome, self.error, self.text = "failed", err[1], _describe(err)

    def addError(self, test: Any, err: Any) -> None:
        self.outcome, self.error, self.text = "error", err[1], _describe(err)

    def addSkip(self, test: Any, reason: str) -> None:
        self.outcome, self.text = "skipped", reason


def _describe(err: Any) -> str:
    kind, value, _ = err
    text = str(value).strip()
    if isinstance(value, AssertionError):
        return text
    return f"{kind.__name__}: {text}" if text else kind.__name__


def _is_refusal(error: BaseException | None, refusals: tuple[type[BaseException], ...]) -> bool:
    while error is not None:
        if isinstance(error, refusals):
            return True
        error = error.__cause__ or error.__context__
    return False


def run_case(
    test_class: type[unittest.TestCase], name: str, refusals: tuple[type[BaseException], ...]
) -> dict[str, Any]:
    """Run node case ``name`` (``test_abs``); returns {"status", "message", "seconds"}."""
    method = f"{name}_{DEVICE.lower()}"
    result = _Result()
    start = time.perf_counter()
    try:
        test_class(method).run(result)
    except BaseException as error:
        result.outcome, result.error = "error", error
        result.text = "".join(traceback.format_exception_only(type(error), error)).strip()
    seconds = time.perf_counter() - start
    status = result.outcome
    if status == "error":
        status = "refused" if _is_refusal(result.error, refusals) else "failed"
    elif status == "skipped":
        status = "failed"
        result.text = f"skipped by the harness: {result.text}"
    return {"status": status, "message": _shorten(result.text), "seconds": round(seconds, 3)}


def _shorten(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
