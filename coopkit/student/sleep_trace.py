"""A SleepKernel run (chapter 6) told in time order, on a fake clock.

Three tasks: A sleeps 2 s; B takes two steps with ``sleep(0)`` between them; C
sleeps 1 s twice. Every event is logged by the tasks themselves and every
``clock.sleep`` by the clock, so the listing shows what the kernel really did:
who woke when, how equal deadlines were ordered, and whether it slept the
clock once per deadline or polled it. ``coopkit trace sleep`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..doubles import FakeClock
from ..harness import Implementation, ImplementationError, describe

CLOCK = "clock"
MAX_EVENTS = 60  # a kernel that polls the clock would fill the screen; the listing stops here


class LoggingClock(FakeClock):
    """A fake clock that writes every sleep into the shared log."""

    def __init__(self, log):
        super().__init__()
        self.log = log

    def sleep(self, seconds):
        self.log.append((self.now, CLOCK, f"clock.sleep({seconds:g})"))
        super().sleep(seconds)


@dataclass
class SleepTrace:
    events: list[tuple[float, str, str]] = field(default_factory=list)  # (time, task or CLOCK, what happened)
    error: str = ""


def _workload(module, clock, log):
    def sleeper(name, naps):
        for seconds in naps:
            log.append((clock.now, name, f"goes to sleep for {seconds:g} s"))
            yield from module.sleep(seconds)
            log.append((clock.now, name, "wakes up"))
        log.append((clock.now, name, "finishes"))

    def polite(name, steps):
        for step in range(steps):
            log.append((clock.now, name, f"step {step}, then sleep(0)"))
            yield from module.sleep(0)
        log.append((clock.now, name, "finishes"))

    return [sleeper("A", [2]), polite("B", 2), sleeper("C", [1, 1])]


def record(folder: Path) -> SleepTrace:
    """Run the workload on the SleepKernel in ``folder`` (with its traps.py) and log every event."""
    log: list[tuple[float, str, str]] = []
    clock = LoggingClock(log)
    try:
        impl = Implementation(folder)
        module = impl.fresh("sleep")
        kernel = impl.attr("sleep", "SleepKernel")(clock)
        for gen in _workload(module, clock, log):
            kernel.spawn(gen)
        kernel.run()
    except ImplementationError as exc:
        return SleepTrace(log[:MAX_EVENTS], str(exc))
    except NotImplementedError:
        return SleepTrace(log[:MAX_EVENTS], "SleepKernel is not written yet (it still raises NotImplementedError)")
    except Exception as exc:  # noqa: BLE001 - show whatever the student's code did
        return SleepTrace(log[:MAX_EVENTS], f"run() raised {type(exc).__name__}: {describe(str(exc))}")
    error = f"stopped after {MAX_EVENTS} events" if len(log) > MAX_EVENTS else ""
    return SleepTrace(log[:MAX_EVENTS], error)


def render_text(trace: SleepTrace) -> str:
    lines = ["SleepKernel on a fake clock: A sleeps 2 s; B takes two steps with sleep(0); C sleeps 1 s twice",
             "  time  task  what happened"]
    for when, who, what in trace.events:
        if who == CLOCK:
            lines.append(f"  {when:4g}  ----  {what}: nothing was ready, so the kernel slept until the next deadline")
        else:
            lines.append(f"  {when:4g}  {who:<4}  {what}")
    if not trace.events:
        lines.append("  nothing ran.")
    if trace.error:
        lines.append(f"  stopped early: {trace.error}")
    return "\n".join(lines)
