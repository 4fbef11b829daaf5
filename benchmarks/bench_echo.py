"""Echo throughput over loopback: the chapter 7 kernel's echo server against an asyncio streams echo server.

Each server runs in its own process; one client, the same for both, runs in
this process: ``clients`` threads, each with a blocking socket, doing
``rounds`` round trips of a ``size``-byte message (send it, read it all back).
Two workloads: many small messages (latency bound) and fewer 64 KiB messages
(bulk). The servers alternate, round after round, and the medians are
reported with their ratio, so machine drift hits both alike.

Writes benchmarks/results/echo.json and the table between the ``echo`` markers
of README.md and docs/10-task-cost.md. Usage: python benchmarks/bench_echo.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from markers import refresh_block  # noqa: E402 - benchmarks/markers.py

WORKLOADS = {  # name: (clients, round trips per client, message size)
    "small messages": (50, 400, 100),
    "64 KiB messages": (10, 200, 65536),
}


def listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def serve_kernel(clients: int, ports) -> None:
    from coopkit.harness import Implementation

    io = Implementation(ROOT / "solutions").load("io")
    sock = listener()
    sock.setblocking(False)
    kernel = io.IOKernel()
    kernel.spawn(io.echo_server(sock, clients))
    ports.send(sock.getsockname()[1])
    kernel.run()


def serve_asyncio(clients: int, ports) -> None:
    async def main():
        finished = asyncio.Event()
        left = [clients]

        async def handle(reader, writer):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            writer.close()
            left[0] -= 1
            if not left[0]:
                finished.set()

        server = await asyncio.start_server(handle, sock=listener())
        ports.send(server.sockets[0].getsockname()[1])
        await finished.wait()
        server.close()

    asyncio.run(main())


SERVERS = {"coopkit IOKernel (chapter 7)": serve_kernel, "asyncio streams": serve_asyncio}


def client(port: int, rounds: int, size: int, start: threading.Barrier) -> None:
    message = b"x" * size
    with socket.create_connection(("127.0.0.1", port)) as sock:
        start.wait()
        for _ in range(rounds):
            sock.sendall(message)
            got = 0
            while got < size:
                chunk = sock.recv(size - got)
                if not chunk:
                    raise RuntimeError("the server closed the connection early")
                got += len(chunk)


def measure(server, clients: int, rounds: int, size: int) -> float:
    """Round trips per second of one server under the shared client."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=server, args=(clients, sender), daemon=True)
    process.start()
    port = receiver.recv()
    start = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=client, args=(port, rounds, size, start)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    process.join(timeout=30)
    if process.exitcode != 0:
        raise RuntimeError(f"the {server.__name__} server did not finish cleanly (exit code {process.exitcode})")
    return clients * rounds / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one round, a tenth of the round trips (a smoke run)")
    args = parser.parse_args()
    repeats = 1 if args.quick else 5
    results = {}
    for workload, (clients, rounds, size) in WORKLOADS.items():
        rounds = max(1, rounds // 10) if args.quick else rounds
        samples = {name: [] for name in SERVERS}
        for _ in range(repeats):
            for name, server in SERVERS.items():
                samples[name].append(measure(server, clients, rounds, size))
        medians = {name: statistics.median(values) for name, values in samples.items()}
        kernel, aio = medians.values()
        results[workload] = {"clients": clients, "round_trips_per_client": rounds, "bytes": size,
                             "round_trips_per_s": medians, "MB_per_s": {n: v * size * 2 / 1e6 for n, v in medians.items()}, "ratio": kernel / aio}
    rows = ["| workload | coopkit IOKernel | asyncio streams | ratio |", "|---|---:|---:|---:|"]
    for workload, data in results.items():
        kernel, aio = data["round_trips_per_s"].values()
        rows.append(f"| {workload} ({data['clients']} clients × {data['round_trips_per_client']} round trips) | "
                    f"{kernel:,.0f} round trips/s | {aio:,.0f} round trips/s | {data['ratio']:.2f}x |")
    table = "\n".join(rows)
    print(table)
    if not args.quick:
        out = ROOT / "benchmarks" / "results"
        out.mkdir(exist_ok=True)
        (out / "echo.json").write_text(json.dumps(results, indent=2))
        for page in (ROOT / "README.md", ROOT / "docs" / "10-task-cost.md"):
            refresh_block(page, "echo", table)


if __name__ == "__main__":
    main()
