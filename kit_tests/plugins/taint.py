"""A pytest plugin for the kit's own tests: every string a test observed is tainted before its verify half runs.

The verify half then fails (the data is wrong), and its message must carry
the tainted text only on its ``got:`` line, the one line the grader cuts to
200 bytes: student text must never reach ``called``, ``expected`` or
``likely cause``. Violations are written as JSON lines to $COOPKIT_TAINT_REPORT.
"""

import json
import os

import pytest

from coopkit import harness
from coopkit.plugin import observe_and_verify

CANARY = "TAINTED"


def taint(value):
    if isinstance(value, str):
        return CANARY + "\n" + value
    if isinstance(value, list):
        return [taint(item) for item in value]
    if isinstance(value, dict):
        return {key: taint(item) for key, item in value.items()}
    return value


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if harness.verifier(pyfuncitem.module, pyfuncitem.name) is None:
        return None
    try:
        observe_and_verify(pyfuncitem, alter=taint)
    except harness.CheckFailure as failure:
        lines = str(failure).splitlines()
        leaks = [line for line in lines if CANARY in line and not line.startswith("got:")]
        shown = any(CANARY in line for line in lines)
        with open(os.environ["COOPKIT_TAINT_REPORT"], "a", encoding="utf-8") as report:
            report.write(json.dumps({"test": pyfuncitem.nodeid, "lines": leaks, "shown": shown}) + "\n")
    except Exception:  # noqa: BLE001 - a verify half that trips on strange data fails the test, which is fine
        pass
    return True
