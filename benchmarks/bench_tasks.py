"""How cheap is a task? The reference Scheduler against a bare loop, asyncio and OS threads.

Measured side by side in one run, medians of several rounds:
* task switches per second: N tasks x S steps each, round robin;
* memory per suspended task (tracemalloc; RSS for threads, whose memory is mostly outside Python),
  each task parked at its first suspension with the smallest body that suspends
  (a bare ``yield``; in asyncio ``await event.wait()``; a thread waiting on an Event);
* how both grow from 10 to 1,000,000 tasks.

Writes benchmarks/results/task_cost.json, docs/task-cost.png and the table between the
``taskcost`` markers of README.md and docs/10-task-cost.md. Usage: python benchmarks/bench_tasks.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import threading
import time
import tracemalloc
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coopkit.harness import Implementation  # noqa: E402
from markers import refresh_block  # noqa: E402 - benchmarks/markers.py


def reference_scheduler():
    return Implementation(ROOT / "solutions").attr("scheduler", "Scheduler", fresh=True)


def stepper(steps):
    for _ in range(steps):
        yield


def idle():
    """The smallest body that suspends: one bare yield. asyncio's counterpart awaits an Event."""
    yield


# -- switches per second -------------------------------------------------------


def switches_scheduler(tasks, steps):
    Scheduler = reference_scheduler()
    scheduler = Scheduler()
    for _ in range(tasks):
        scheduler.add(stepper(steps))
    started = time.perf_counter()
    scheduler.run()
    return tasks * (steps + 1) / (time.perf_counter() - started)


def switches_bare(tasks, steps):
    queue = deque(stepper(steps) for _ in range(tasks))
    started = time.perf_counter()
    while queue:
        gen = queue.popleft()
        try:
            next(gen)
        except StopIteration:
            continue
        queue.append(gen)
    return tasks * (steps + 1) / (time.perf_counter() - started)


def switches_asyncio(tasks, steps):
    async def worker():
        for _ in range(steps):
            await asyncio.sleep(0)

    async def main():
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        return time.perf_counter() - started

    return tasks * (steps + 1) / asyncio.run(main())


def switches_threads(tasks, steps):
    """Round robin by hand-off: each thread waits for its turn, takes a step, passes the turn on."""
    turns = [threading.Semaphore(0) for _ in range(tasks)]
    done = threading.Event()
    remaining = [tasks]
    lock = threading.Lock()

    def worker(index):
        for _ in range(steps + 1):
            turns[index].acquire()
            turns[(index + 1) % tasks].release()
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(tasks)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    turns[0].release()
    done.wait()
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.join()
    return tasks * (steps + 1) / elapsed


# -- memory per suspended task ---------------------------------------------------


def memory_scheduler(tasks):
    Scheduler = reference_scheduler()
    gc.collect()
    tracemalloc.start()
    scheduler = Scheduler()
    for _ in range(tasks):
        gen = idle()
        next(gen)  # suspended at its first yield
        scheduler.add(gen)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return size / tasks


def memory_bare(tasks):
    gc.collect()
    tracemalloc.start()
    queue = deque()
    for _ in range(tasks):
        gen = idle()
        next(gen)
        queue.append(gen)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return size / tasks


def memory_asyncio(tasks):
    async def main():
        gate = asyncio.Event()

        async def waiter():
            await gate.wait()

        gc.collect()
        tracemalloc.start()
        pending = [asyncio.ensure_future(waiter()) for _ in range(tasks)]
        await asyncio.sleep(0)  # every task runs to its first suspension
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        gate.set()
        await asyncio.gather(*pending)
        return size / tasks

    return asyncio.run(main())


def rss():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


def memory_threads(tasks):
    gate = threading.Event()
    before = rss()
    threads = [threading.Thread(target=gate.wait, daemon=True) for _ in range(tasks)]
    for thread in threads:
        thread.start()
    size = rss() - before
    gate.set()
    for thread in threads:
        thread.join()
    return size / tasks


def median(function, *args, rounds=5):
    return statistics.median(function(*args) for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sizes (a smoke run)")
    args = parser.parse_args()
    rounds = 1 if args.quick else 5
    sizes = [10, 1_000, 100_000] if args.quick else [10, 100, 1_000, 10_000, 100_000, 1_000_000]
    results = {"switches_10000x100": {}, "memory_bytes": {}, "growth": {}}
    kinds = {
        "Scheduler (reference)": (switches_scheduler, memory_scheduler, 1_000_000),
        "bare deque loop": (switches_bare, memory_bare, 1_000_000),
        "asyncio sleep(0)": (switches_asyncio, memory_asyncio, 1_000_000),
        "OS threads": (switches_threads, memory_threads, 10_000),
    }
    samples = {name: [] for name in kinds}
    for _ in range(rounds):  # interleaved, so that drift of the machine hits every runtime alike
        for name, (switches, _, _) in kinds.items():
            samples[name].append(switches(10_000 if name != "OS threads" else 1_000, 100))
    for name, (switches, memory, largest) in kinds.items():
        results["switches_10000x100"][name] = statistics.median(samples[name])
        results["memory_bytes"][name] = median(memory, 10_000 if name != "OS threads" else 1_000, rounds=rounds)
        growth = []
        for size in sizes:
            if size > largest:
                continue
            steps = max(1, min(100, 1_000_000 // size))
            growth.append({"tasks": size, "switches_per_s": switches(size, steps), "bytes_per_task": memory(size)})
        results["growth"][name] = growth
    ref, bare = results["switches_10000x100"]["Scheduler (reference)"], results["switches_10000x100"]["bare deque loop"]
    aio = results["switches_10000x100"]["asyncio sleep(0)"]
    mem_ref, mem_aio = results["memory_bytes"]["Scheduler (reference)"], results["memory_bytes"]["asyncio sleep(0)"]
    results["ratios"] = {"scheduler_vs_bare": ref / bare, "scheduler_vs_asyncio": ref / aio, "memory_scheduler_vs_asyncio": mem_ref / mem_aio}
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "task_cost.json").write_text(json.dumps(results, indent=2))
    table = render_table(results)
    print(table)
    plot(results, ROOT / "docs" / "task-cost.png")
    if not args.quick:
        for page in (ROOT / "README.md", ROOT / "docs" / "10-task-cost.md"):
            refresh_block(page, "taskcost", table)


def render_table(results) -> str:
    rows = ["| runtime | task switches per second (10,000 tasks × 100 steps; threads: 1,000) | memory per suspended task |", "|---|---:|---:|"]
    for name, rate in results["switches_10000x100"].items():
        rows.append(f"| {name} | {rate:,.0f} | {results['memory_bytes'][name]:,.0f} B |")
    ratios = results["ratios"]
    rows.append("")
    rows.append(f"Reference Scheduler: {ratios['scheduler_vs_bare']:.0%} of the bare loop's switches per second (target ≥ 50%), "
                f"{ratios['scheduler_vs_asyncio']:.1f}x asyncio's (target ≥ 5x); a suspended task costs "
                f"{ratios['memory_scheduler_vs_asyncio']:.2f} of an asyncio task's memory (target ≤ 0.33).")
    return "\n".join(rows)


def plot(results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, points in results["growth"].items():
        xs = [p["tasks"] for p in points]
        left.plot(xs, [p["switches_per_s"] for p in points], marker="o", label=name)
        right.plot(xs, [p["bytes_per_task"] for p in points], marker="o", label=name)
    for axis, label in ((left, "task switches per second"), (right, "bytes per suspended task")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("number of tasks")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3, which="both")
    left.legend(fontsize=8)
    fig.suptitle("How cheap is a task?")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
