"""What a sandboxed kernel sent is capped and validated before nbgrader writes it; check cells say what the grader found."""

from __future__ import annotations

import nbformat

from coopkit.kernels.checks import OUTPUT_BYTES, kernel_outputs_checked, set_check_cells


def notebook(*outputs):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('x')")
    cell.outputs = list(outputs)
    check = nbformat.v4.new_code_cell("grade_check('runner', 'stop_value')", metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "runner-stop_value", "points": 3}})
    check.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "3.0"}, execution_count=1)]
    forged = nbformat.v4.new_code_cell("1", metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "runner-made_up", "points": 3}})
    nb.cells = [cell, check, forged]
    return nb


REPORT = {"exercises": {"runner": {"checks": {"stop_value": {"score": 0, "max_score": 3, "feedback": "runner returns nothing"}}}}}


def test_a_huge_output_is_replaced_by_a_note():
    nb = notebook(nbformat.v4.new_output("stream", name="stdout", text="x" * (OUTPUT_BYTES + 1)))
    assert kernel_outputs_checked(nb) == ["cell 0: an output over 64 KB"]
    assert "was removed" in nb.cells[0].outputs[0].text
    nbformat.validate(nb)


def test_invalid_outputs_are_dropped_and_the_notebook_validates():
    nb = notebook({"output_type": "display_data", "data": {"text/plain": 5}, "metadata": {}, "evil": True})
    assert kernel_outputs_checked(nb)
    nbformat.validate(nb)
    assert nb.cells[0].outputs[0].text.startswith("[coopkit:")


def test_small_valid_outputs_are_kept():
    nb = notebook(nbformat.v4.new_output("stream", name="stdout", text="hello\n"))
    assert kernel_outputs_checked(nb) == [] and nb.cells[0].outputs[0].text == "hello\n"


def test_check_cells_show_the_report_not_what_the_kernel_printed():
    nb = notebook()
    set_check_cells(nb, {"runner": REPORT})
    check, forged = nb.cells[1], nb.cells[2]
    assert check.outputs[0].text.startswith("runner / stop_value: 0/3 points\nrunner returns nothing")
    assert check.outputs[1].data["text/plain"] == "0.0"
    assert forged.outputs[0].output_type == "error"  # nbgrader gives an error output 0 points
    nbformat.validate(nb)


class FakeExecute:
    """Stands in for SandboxedExecute: records that the watchdog stopped the kernel."""

    def __init__(self):
        self.stopped = 0

    def stop_kernel(self):
        self.stopped += 1


def test_the_watchdog_stops_a_notebook_past_its_budget(tmp_path):
    import time

    from coopkit.kernels.execute import Watchdog

    execute = FakeExecute()
    watchdog = Watchdog(execute, tmp_path, budget=0.2)
    time.sleep(1.5)
    watchdog.stop()
    assert execute.stopped == 1 and "budget" in watchdog.reason


def test_the_watchdog_stops_a_kernel_that_fills_its_socket_folder(tmp_path):
    import time

    from coopkit.kernels.execute import SOCKET_FOLDER_BYTES, Watchdog

    execute = FakeExecute()
    watchdog = Watchdog(execute, tmp_path, budget=60)
    (tmp_path / "junk").write_bytes(b"x" * (SOCKET_FOLDER_BYTES + 1))
    time.sleep(1.5)
    watchdog.stop()
    assert execute.stopped == 1 and "socket folder" in watchdog.reason


def test_an_honest_notebook_is_left_alone_by_the_watchdog(tmp_path):
    import time

    from coopkit.kernels.execute import Watchdog

    execute = FakeExecute()
    (tmp_path / "kernel-1").write_bytes(b"")
    watchdog = Watchdog(execute, tmp_path, budget=60)
    time.sleep(1.2)
    watchdog.stop()
    assert execute.stopped == 0 and watchdog.reason == ""


def test_kernel_output_past_the_notebook_cap_is_dropped_as_it_comes():
    from coopkit.kernels.execute import OUTPUT_TOTAL, SandboxedExecute

    execute = SandboxedExecute()
    outs = []
    message = {"msg_type": "stream", "parent_header": {"msg_id": "m"}, "content": {"name": "stdout", "text": "x" * 1000}}
    execute._output_bytes = OUTPUT_TOTAL - 500
    assert execute.output(outs, message, None, 0) is None and outs == []
