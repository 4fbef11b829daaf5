"""The grader against a corpus of submissions: correct styles, classic bugs, cheats, attacks, broken files.

Every case states what it must get: full marks, exactly the listed checks
lost, or nothing on the listed exercises. Everything else must stay at full
marks, so a bug is shown to cost only the check it breaks.
"""

from __future__ import annotations

import re

import pytest

from coopkit import grader

from .conftest import build_submission, corpus_cases, CORPUS


@pytest.fixture(scope="session")
def graded(kit, tmp_path_factory):
    """Grade the whole corpus once, two sandboxes at a time, as grade-class does."""
    root = tmp_path_factory.mktemp("corpus")
    expects, folders = {}, {}
    for name in corpus_cases():
        expects[name] = build_submission(kit, CORPUS / name, root / name)
        folders[name] = root / name
    with grader.GradingRun.create(kit) as run:
        reports = grader.grade_folders(run, folders, jobs=2)
    return expects, reports


def check_scores(report):
    return {
        f"{exercise}.{name}": (check["score"], check["max_score"])
        for exercise, data in report["exercises"].items()
        for name, check in data["checks"].items()
    }


@pytest.mark.parametrize("case", corpus_cases())
def test_case_gets_exactly_what_it_earned(graded, kit, case):
    expects, reports = graded
    expect, report = expects[case], reports[case]
    scores = check_scores(report)
    lose = set(expect.get("lose", ()))
    zero = set(expect.get("zero", ()))
    assert not lose - scores.keys(), f"unknown checks in expect.toml: {lose - scores.keys()}"
    wrong = []
    for key, (score, maximum) in scores.items():
        exercise = key.split(".")[0]
        should_lose = key in lose or exercise in zero
        if should_lose and score != 0:
            wrong.append(f"{key}: got {score}/{maximum}, expected 0")
        if not should_lose and score != maximum:
            feedback = report["exercises"][exercise]["checks"][key.split(".")[1]]["feedback"]
            wrong.append(f"{key}: got {score}/{maximum}, expected full marks ({feedback!r})")
    assert not wrong, "\n".join(wrong)
    for exercise, status in expect.get("status", {}).items():
        assert report["exercises"][exercise]["status"] == status
        assert "\n" not in report["exercises"][exercise]["message"], "status messages are one line"
    if expect.get("kind") == "cheat":
        for exercise in zero:
            assert report["exercises"][exercise]["score"] == 0


def test_every_kind_is_represented(graded):
    expects, _ = graded
    kinds = {expect["kind"] for expect in expects.values()}
    assert kinds == {"correct", "bug", "cheat", "broken"}


def test_feedback_never_leaks_hidden_tests(graded, kit):
    """No report quotes a hidden test's name or code, even when student code tries to read it."""
    _, reports = graded
    hidden_names = set()
    for exercise in kit.manifest.exercises:
        suite = kit.suite_file(exercise.name).read_text()
        hidden = suite.split("### BEGIN HIDDEN TESTS", 1)[1]
        hidden_names |= set(re.findall(r"def (test_\w+)", hidden))
    for name, report in reports.items():
        text = str(report)
        leaked = [test for test in hidden_names if test in text]
        assert not leaked, f"{name}: report names hidden tests {leaked}"
        assert "BEGIN HIDDEN" not in text and "def check_" not in text, f"{name}: report quotes test source"


def test_every_submission_has_a_report(graded):
    expects, reports = graded
    assert set(reports) == set(expects)
    for report in reports.values():
        assert report["max_score"] == sum(e["max_score"] for e in report["exercises"].values())


PART2_BUGS = {  # case: (module, {old: new} edits of the reference, checks it must lose)
    "reference": ("traps", {}, set()),
    "join_swallows_child_error": ("traps", {"self.ready.append((task_id, gen, gen.throw, self.exceptions[target]))": "self.ready.append((task_id, gen, gen.send, None))"}, {"traps.join"}),
    "unknown_trap_escapes_run": ("traps", {'self.ready.append((task_id, gen, gen.throw, RuntimeError(f"unknown trap {trap!r}")))': 'raise RuntimeError(f"unknown trap {trap!r}")'}, {"traps.unknown_trap"}),
    "spawn_answers_nothing": ("traps", {"self.ready.append((task_id, gen, gen.send, child_id))": "self.ready.append((task_id, gen, gen.send, None))"}, {"traps.spawn"}),
    "get_id_answers_zero": ("traps", {"self.ready.append((task_id, gen, gen.send, task_id))": "self.ready.append((task_id, gen, gen.send, 0))"}, {"traps.send_answers"}),
    "sleep_polls_the_clock": ("sleep", {"self.clock.sleep(max(0, self.sleeping[0][0] - self.clock.time()))": "self.clock.sleep(min(0.1, max(0, self.sleeping[0][0] - self.clock.time())))"}, {"sleep.no_busy_wait"}),
    "sleep_heap_without_tie_breaker": ("sleep", {"heapq.heappush(self.sleeping, (deadline, self.sequence, task_id, gen))": "heapq.heappush(self.sleeping, (deadline, gen, task_id))",
                                                 "_, _, task_id, gen = heapq.heappop(self.sleeping)": "_, gen, task_id = heapq.heappop(self.sleeping)"}, {"sleep.wake_order"}),
    "io_poll_forgets_update": ("io", {"                self.ready.append((task_id, gen, gen.send, None))\n            self.update(sock)\n": "                self.ready.append((task_id, gen, gen.send, None))\n"}, {"io.wait_traps", "io.echo_server"}),  # stale registrations stall the server too
    "io_registers_twice": ("io", {"        if registered:\n            self.selector.modify(sock, events)\n        else:\n            self.selector.register(sock, events)": "        self.selector.register(sock, events)"}, {"io.wait_traps"}),
    "io_second_reader_overwrites": ("io", {"        if sock in waiters:\n            self.ready.append((task_id, gen, gen.throw, RuntimeError(f\"another task is already waiting on {sock!r}\")))\n            return\n": ""}, {"io.wait_traps"}),
    "io_polls_only_when_idle": ("io", {"            self.poll(self.select_timeout())": "            if not self.ready:\n                self.poll(self.select_timeout())"}, {"io.select_timeout"}),
    "io_blocks_beside_sleepers": ("io", {"        if self.sleeping:\n            return max(0, self.sleeping[0][0] - self.clock.time())\n": ""}, {"io.select_timeout"}),
    "io_never_blocks": ("io", {"self.clock.time())\n        return None": "self.clock.time())\n        return 0"}, {"io.select_timeout"}),
    "io_send_does_not_loop": ("io", {"    view = memoryview(data)\n    while view:": "    view = memoryview(data)\n    if view:"}, {"io.helpers"}),
    "io_accept_leaves_blocking": ("io", {"    conn.setblocking(False)\n": ""}, {"io.helpers"}),
    "io_handler_ignores_eof": ("io", {"            if not data:\n                break": "            if not data:\n                continue"}, {"io.echo_server"}),
    "cancel_leaves_sleeper_in_heap": ("cancel", {"                self.sleeping.remove(entry)\n                heapq.heapify(self.sleeping)\n": ""}, {"cancel.cleanup"}),
    "cancel_leaves_reader_registered": ("cancel", {"                    del waiters[sock]\n                    self.update(sock)\n": "                    del waiters[sock]\n"}, {"cancel.cleanup"}),
    "cancel_ignores_joiners": ("cancel", {"        for joiners in self.waiting.values():": "        for joiners in ():"}, {"cancel.cleanup"}),
    "cancel_adds_a_second_entry": ("cancel", {"                self.ready.remove(entry)\n": ""}, {"cancel.delivery"}),
    "cancel_self_answers_false": ("cancel", {"        if target == task_id:\n            self.ready.append((task_id, gen, gen.throw, Cancelled(f\"task {task_id} cancelled itself\")))\n        elif": "        if"}, {"cancel.finished_noop"}),
    "cancel_unknown_id_answers_false": ("cancel", {"        elif not (isinstance(target, int) and 0 < target < self.next_id):\n            self.ready.append((task_id, gen, gen.throw, KeyError(target)))\n": ""}, {"cancel.finished_noop"}),
    "await_trap_not_a_coroutine": ("awaiting", {"@types.coroutine\ndef get_id():": "def get_id():"}, {"awaiting.awaitables"}),
    "await_async_map_never_switches": ("awaiting", {"        results.append(func(item))\n        await switch()\n": "        results.append(func(item))\n"}, {"awaiting.async_map"}),
    "await_run_swallows_main_error": ("awaiting", {"    if main_id in kernel.exceptions:\n        raise kernel.exceptions[main_id]\n    return kernel.results[main_id]": "    return kernel.results.get(main_id)"}, {"awaiting.run"}),
    "await_run_ignores_clock": ("awaiting", {"    kernel = AwaitKernel(clock)": "    kernel = AwaitKernel()"}, {"awaiting.run"}),
    "await_spawn_takes_anything": ("awaiting", {"        if not is_task(task):": "        if False:"}, {"awaiting.run"}),
    "sleep_wakes_only_when_idle": ("sleep", {"            self.wake()\n            if self.ready:\n                self.step()\n            else:\n                self.clock.sleep(max(0, self.sleeping[0][0] - self.clock.time()))": "            if self.ready:\n                self.step()\n            else:\n                self.clock.sleep(max(0, self.sleeping[0][0] - self.clock.time()))\n                self.wake()"}, {"sleep.sleep_zero"}),
}


@pytest.fixture(scope="session")
def graded_part2(kit, tmp_path_factory):
    from .conftest import reference_source

    root = tmp_path_factory.mktemp("part2")
    folders = {}
    for name, (module, edits, _) in PART2_BUGS.items():
        (root / name).mkdir()
        for exercise in kit.manifest.part(2).exercises:
            source = reference_source(kit, exercise.name)
            if exercise.name == module:
                for old, new in edits.items():
                    assert old in source, old
                    source = source.replace(old, new)
            (root / name / f"{exercise.name}.py").write_text(source)
        folders[name] = root / name
    with grader.GradingRun.create(kit, part=2) as run:
        return grader.grade_folders(run, folders, jobs=2)


@pytest.mark.parametrize("case", sorted(PART2_BUGS))
def test_part2_bug_costs_only_its_check(graded_part2, kit, case):
    report = graded_part2[case]
    lost = {f"{exercise}.{name}" for exercise, data in report["exercises"].items() for name, check in data["checks"].items() if not check["passed"]}
    assert lost == PART2_BUGS[case][2], {k: v["feedback"] for e in report["exercises"].values() for k, v in e["checks"].items() if not v["passed"]}
    assert list(report["exercises"]) == [e.name for e in kit.manifest.part(2).exercises] and report["part"] == 2
