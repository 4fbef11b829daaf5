"""Runs inside the grading sandbox: reports each test's outcome to the grader.

Loaded into the pytest process that runs untrusted code, so it trusts
nothing that happens after collection:

* every record goes to a private pipe, signed with a key the grader handed
  over before any student code ran;
* after collection, the test file and harness are deleted from disk, so
  student code cannot read the hidden tests back;
* after every test, the functions and classes of pytest, pluggy, the harness
  and this plugin are compared with a snapshot taken before any student code
  ran, along with the builtins and the trace hooks; any change is reported as
  tampering, which costs the whole exercise.
"""

from __future__ import annotations

import builtins
import gc
import hashlib
import hmac
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from coopkit import harness

_write = os.write
_getpid = os.getpid
_dumps = json.dumps
_digest = hmac.new
_WATCHED_PREFIXES = ("_pytest", "pytest", "pluggy", "coopkit", "iniconfig", "random", "inspect", "collections", "json", "hmac", "os")


def _watched_modules():
    return {
        name: module
        for name, module in list(sys.modules.items())
        if module is not None and name.split(".")[0] in _WATCHED_PREFIXES
    }


_CLASS_OWNERS = ("_pytest.reports", "_pytest.runner", "_pytest.python", "_pytest.main", "_pytest.outcomes", "pluggy", "coopkit")


_MISSING = object()


def _members(module_name, module):
    """``(owner, name, namespace, key)`` for every callable the run depends on in ``module``.

    ``namespace`` is the live ``__dict__`` (or class mapping proxy) that holds
    it, so a later look-up sees any change made to it.
    """
    deep = module_name.startswith(_CLASS_OWNERS)
    namespace = vars(module)
    for attr, value in list(namespace.items()):
        if callable(value):
            yield module_name, attr, namespace, attr
            if deep and isinstance(value, type) and getattr(value, "__module__", "") == module_name:
                inner_namespace = vars(value)
                for member, inner in list(inner_namespace.items()):
                    if callable(inner) or isinstance(inner, (staticmethod, classmethod, property)):
                        yield module_name, f"{attr}.{member}", inner_namespace, member


def _snapshot():
    """What the test run depends on, as ``(owner, name, namespace, key, value, code)``: every callable and
    class of the watched modules, the modules themselves, the builtins; values are held, so identities stay valid."""
    shot = []
    for name, module in _watched_modules().items():
        for owner, attr, namespace, key in _members(name, module):
            value = namespace[key]
            shot.append((owner, attr, namespace, key, value, getattr(value, "__code__", None)))
        shot.append(("sys.modules", name, sys.modules, name, module, None))
    builtin_names = vars(builtins)
    for attr, value in list(builtin_names.items()):
        shot.append(("builtins", attr, builtin_names, attr, value, None))
    return shot


def _changed(shot):
    """``owner.name`` of every baseline entry whose value (or its code) is no longer the same object."""
    changed = []
    for owner, name, namespace, key, value, code in shot:
        now = namespace.get(key, _MISSING)
        if now is not value or (code is not None and getattr(now, "__code__", None) is not code):
            changed.append(f"{owner}.{name}")
    return changed


class Recorder:
    """The pytest plugin object the sandbox boot script registers."""

    def __init__(self, fd, key, remove_after_collection):
        self.fd = fd
        self.key = key
        self.remove = [Path(path) for path in remove_after_collection]
        self.pid = _getpid()
        self.baseline = None
        self.hooks = None
        self.tampered = False
        harness.on_hard_timeout(self._on_hard_timeout)

    def emit(self, **record):
        record["pid"] = _getpid()
        body = _dumps(record, sort_keys=True)
        mac = _digest(self.key, body.encode(), hashlib.sha256).hexdigest()
        data = (mac + " " + body + "\n").encode()
        while data:
            written = _write(self.fd, data)
            data = data[written:]

    def _on_hard_timeout(self, item, seconds):
        self.emit(event="timeout", test=item.nodeid, seconds=seconds)

    def _verify(self, nodeid):
        if self.tampered or self.baseline is None:
            return
        # Only what existed before student code ran counts: new attributes and lazily imported modules are harmless.
        changed = _changed(self.baseline)
        if sys.gettrace() is not self.hooks[0] or sys.getprofile() is not self.hooks[1]:
            changed.append("sys.settrace/setprofile")
        if changed:
            self.tampered = True
            self.emit(event="tamper", test=nodeid, detail=", ".join(changed[:5]))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        gc.enable()  # off while pytest loaded (sandbox_boot); student code runs with the collector on
        self.emit(event="collected", tests=[item.nodeid for item in session.items])
        for path in self.remove:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        self.baseline = _snapshot()
        self.hooks = (sys.gettrace(), sys.getprofile())

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self, nodeid, location):
        self.emit(event="start", test=nodeid)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.failed_phases = []
        yield
        self._verify(item.nodeid)
        outcome = "failed" if self.failed_phases or self.tampered else "passed"
        message = self.failed_phases[0] if self.failed_phases else ""
        exercise, check = harness.check_of(item)
        self.emit(event="end", test=item.nodeid, outcome=outcome, check=check, message=message)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        if report.failed or (report.when == "call" and not report.passed):
            text = getattr(report, "coopkit_message", "") or ("skipped" if report.skipped else f"failed during {report.when}")
            self.failed_phases.append(text)

    @pytest.hookimpl
    def pytest_sessionfinish(self, session, exitstatus):
        self.emit(event="done", exitstatus=int(exitstatus))
