"""Step 1: read the suites. What the grader knows about each test comes from here, never from a sandbox.

For every exercise: the tests in file order with their check and title (read
from the source, not by running it), the suite imported in the grader's own
process for its verify halves, and the copy that goes into sandboxes: every
verify and judge function taken out, every docstring dropped, and the tests
renamed ``test_0``, ``test_1``, ... so that no hidden test's name is there to
be read back.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from .. import harness

JUDGE_ONLY = ("verify_", "judge_")


class SuiteError(RuntimeError):
    """A suite breaks the observe / verify contract (an author's mistake)."""


@dataclass(frozen=True)
class SuiteTest:
    name: str
    check: str
    title: str


@dataclass(frozen=True)
class Suite:
    exercise: str
    tests: tuple[SuiteTest, ...]
    module: ModuleType
    sandbox_source: str

    def test(self, name: str) -> SuiteTest:
        return next(test for test in self.tests if test.name == name)

    def verify(self, name: str):
        return harness.verifier(self.module, name)


def _check_of(node: ast.FunctionDef) -> str | None:
    for decorator in node.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and getattr(decorator.func, "id", None) == "check"
            and decorator.args
            and isinstance(decorator.args[0], ast.Constant)
        ):
            return decorator.args[0].value
    return None


def load(path: Path, exercise: str) -> Suite:
    """Read ``path`` once per version of the file."""
    stat = path.stat()
    return _load(str(path), exercise, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1)
def _reader_digest() -> bytes:
    """This module's own source: a change to how suites are read makes every cached reading stale."""
    return hashlib.sha256(Path(__file__).read_bytes()).digest()


def _cache_file(source: str) -> Path:
    """Where the reading of one version of a suite is kept between runs (the user's cache folder)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coopkit" / "suites"
    digest = hashlib.sha256(_reader_digest() + source.encode()).hexdigest()
    return base / f"{digest}.json"


def _read(path: str, source: str) -> tuple[list[SuiteTest], str]:
    """The tests and the sandbox copy of a suite: from the cache, else parsed (and cached when possible)."""
    cache = _cache_file(source)
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        return [SuiteTest(*test) for test in data["tests"]], data["sandbox_source"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    tree = ast.parse(source, path)
    tests = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            check = _check_of(node)
            if check is None:
                raise SuiteError(f"{path}: {node.name} has no @check(...) mark")
            title = (ast.get_docstring(node) or node.name).strip().splitlines()[0]
            tests.append(SuiteTest(node.name, check, title))
    sandbox_source = _observe_only(tree, [test.name for test in tests])
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_name(f".{cache.name}.{os.getpid()}")
        temporary.write_text(json.dumps({"tests": [list(t.__dict__.values()) for t in tests], "sandbox_source": sandbox_source}), encoding="utf-8")
        os.replace(temporary, cache)
    except OSError:
        pass  # no cache folder: read it again next time
    return tests, sandbox_source


@functools.lru_cache(maxsize=64)
def _load(path: str, exercise: str, mtime_ns: int, size: int) -> Suite:
    source = Path(path).read_text(encoding="utf-8")
    tests, sandbox_source = _read(path, source)
    spec = importlib.util.spec_from_file_location(f"coopkit_suite_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for test in tests:
        if harness.verifier(module, test.name) is None:
            raise SuiteError(f"{path}: {test.name} has no verify_{test.name.removeprefix('test_')}")
    return Suite(exercise, tuple(tests), module, sandbox_source)


def sandbox_name(index: int) -> str:
    return f"test_{index}"


def _observe_only(tree: ast.Module, names: list[str]) -> str:
    """The suite as the sandbox gets it: no judging code, no docstrings, tests renamed by position."""
    renamed = {name: sandbox_name(index) for index, name in enumerate(names)}
    body = [node for node in tree.body if not (isinstance(node, ast.FunctionDef) and node.name.startswith(JUDGE_ONLY))]
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
        if isinstance(node, ast.FunctionDef) and node.name in renamed:
            node.name = renamed[node.name]
    return ast.unparse(ast.Module(body=body, type_ignores=[])) + "\n"
