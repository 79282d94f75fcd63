"""One-command benchmark: raw Starlette vs fast-channels vs chanspec on real uvicorn servers.

    python -m benchmarks.run            # full: 5 repeats, 3 s windows, broadcast 10/100/500
    python -m benchmarks.run --quick    # under 2 minutes: 3 repeats, 1 s windows, 100/500

Each app runs in its own uvicorn process bound to 127.0.0.1 (see ``benchmarks/apps.py``);
clients are real ``websockets`` connections from this process (compression off). Server CPU
time is read from ``/proc/<pid>/stat`` (utime + stime) right before and after each timed
window. Runs are interleaved (repeat -> scenario -> app) and every ratio is paired: app / raw
of the same repeat, then the median over repeats. Everything is time-bounded and the servers
are stopped at the end. This is a script, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import websockets

APPS = ("raw", "fc", "chanspec")
BROADCAST_APPS = ("raw", "fc", "chanspec")
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_server(name: str) -> Server:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.apps", name, str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server {name} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Server(name, port, proc)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server {name} did not start")


def stop_servers(servers: list[Server]) -> None:
    for s in servers:
        if s.proc.poll() is None:
            s.proc.terminate()
    for s in servers:
        try:
            s.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait(timeout=5)


# ---- clients -------------------------------------------------------------------------------


async def connect_many(url: str, n: int) -> list[websockets.ClientConnection]:
    sem = asyncio.Semaphore(50)

    async def one() -> websockets.ClientConnection:
        async with sem:
            return await websockets.connect(
                url, compression=None, open_timeout=20, max_queue=None, ping_interval=None
            )

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def close_all(conns: list[websockets.ClientConnection]) -> None:
    await asyncio.gather(*(asyncio.wait_for(c.close(), 5) for c in conns), return_exceptions=True)


@dataclass
class EchoResult:
    msgs: int
    seconds: float
    cpu: float
    latencies: list[float] = field(repr=False)

    @property
    def rate(self) -> float:
        return self.msgs / self.seconds

    @property
    def cpu_per_msg(self) -> float:
        return self.cpu / self.msgs

    def pct(self, q: float) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, int(q * len(lat)))]


async def echo_run(server: Server, n_conns: int, seconds: float) -> EchoResult:
    conns = await connect_many(f"ws://127.0.0.1:{server.port}/ws/echo", n_conns)
    latencies: list[float] = []
    counts = [0] * n_conns
    phase = {"measure": False, "stop": False}

    async def loop(i: int, ws: websockets.ClientConnection) -> None:
        seq = 0
        while not phase["stop"]:
            seq += 1
            t = time.perf_counter()
            await ws.send(json.dumps({"action": "echo", "text": "hello world", "seq": seq}))
            await asyncio.wait_for(ws.recv(), 10)
            if phase["measure"]:
                latencies.append(time.perf_counter() - t)
                counts[i] += 1

    try:
        tasks = [asyncio.create_task(loop(i, ws)) for i, ws in enumerate(conns)]
        await asyncio.sleep(min(0.3, seconds / 3))  # warm-up
        cpu0, t0 = cpu_seconds(server.pid), time.perf_counter()
        phase["measure"] = True
        await asyncio.sleep(seconds)
        phase["measure"] = False
        cpu1, t1 = cpu_seconds(server.pid), time.perf_counter()
        phase["stop"] = True
        await asyncio.gather(*tasks)
    finally:
        await close_all(conns)
    return EchoResult(sum(counts), t1 - t0, cpu1 - cpu0, latencies)


@dataclass
class BroadcastResult:
    members: int
    rounds: int
    seconds: float
    cpu: float
    round_times: list[float] = field(repr=False)

    @property
    def deliveries(self) -> int:
        return self.rounds * self.members

    @property
    def deliveries_per_s(self) -> float:
        return self.deliveries / self.seconds

    @property
    def cpu_per_delivery(self) -> float:
        return self.cpu / self.deliveries

    @property
    def p50(self) -> float:
        return statistics.median(self.round_times)


async def broadcast_run(server: Server, members: int, seconds: float) -> BroadcastResult:
    conns = await connect_many(f"ws://127.0.0.1:{server.port}/ws/room", members)
    state = {"count": 0}
    done = asyncio.Event()

    async def reader(ws: websockets.ClientConnection) -> None:
        try:
            async for _ in ws:
                state["count"] += 1
                if state["count"] >= members:
                    done.set()
        except websockets.ConnectionClosed:
            pass

    readers = [asyncio.create_task(reader(ws)) for ws in conns]
    await asyncio.sleep(0.2)  # let every member's group join finish

    async def one_round(seq: int) -> float:
        state["count"] = 0
        done.clear()
        t = time.perf_counter()
        await conns[0].send(json.dumps({"action": "broadcast", "text": "hello", "seq": seq}))
        await asyncio.wait_for(done.wait(), 10)
        return time.perf_counter() - t

    try:
        for seq in range(3):  # warm-up
            await one_round(-seq)
        times: list[float] = []
        cpu0, t0 = cpu_seconds(server.pid), time.perf_counter()
        while time.perf_counter() - t0 < seconds or len(times) < 3:
            times.append(await one_round(len(times)))
        cpu1, t1 = cpu_seconds(server.pid), time.perf_counter()
    finally:
        await close_all(conns)
        for r in readers:
            r.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return BroadcastResult(members, len(times), t1 - t0, cpu1 - cpu0, times)


# ---- reporting -----------------------------------------------------------------------------


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def paired_ratio(results: dict, app: str, key, metric) -> float:
    """Median over repeats of metric(app) / metric(raw) within the same repeat."""
    ratios = [
        metric(a) / metric(r)
        for a, r in zip(results[(app, key)], results[("raw", key)], strict=True)
        if metric(r) > 0
    ]
    return med(ratios) if ratios else float("nan")


def echo_table(results: dict, conn_counts: list[int]) -> str:
    lines = [
        "| app | conns | msgs/s | p50 ms | p99 ms | server CPU µs/msg "
        "| throughput vs raw | p99 vs raw | CPU/msg vs raw |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in conn_counts:
        for app in APPS:
            rs = results[(app, n)]
            lines.append(
                f"| {app} | {n} | {med([r.rate for r in rs]):,.0f} "
                f"| {med([r.pct(0.5) for r in rs]) * 1e3:.3f} "
                f"| {med([r.pct(0.99) for r in rs]) * 1e3:.3f} "
                f"| {med([r.cpu_per_msg for r in rs]) * 1e6:.1f} "
                f"| {paired_ratio(results, app, n, lambda r: r.rate):.2f}x "
                f"| {paired_ratio(results, app, n, lambda r: r.pct(0.99)):.2f}x "
                f"| {paired_ratio(results, app, n, lambda r: r.cpu_per_msg):.2f}x |"
            )
    return "\n".join(lines)


def broadcast_table(results: dict, sizes: list[int]) -> str:
    lines = [
        "| app | members | all-received p50 ms | deliveries/s | server CPU µs/delivery "
        "| deliveries/s vs raw | CPU/delivery vs raw |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        for app in BROADCAST_APPS:
            rs = results[(app, n)]
            lines.append(
                f"| {app} | {n} | {med([r.p50 for r in rs]) * 1e3:.2f} "
                f"| {med([r.deliveries_per_s for r in rs]):,.0f} "
                f"| {med([r.cpu_per_delivery for r in rs]) * 1e6:.1f} "
                f"| {paired_ratio(results, app, n, lambda r: r.deliveries_per_s):.2f}x "
                f"| {paired_ratio(results, app, n, lambda r: r.cpu_per_delivery):.2f}x |"
            )
    return "\n".join(lines)


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from importlib.metadata import version

    import fast_channels  # noqa: F401
    import starlette
    import uvicorn

    return (
        f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, Python "
        f"{platform.python_version()}, uvicorn {uvicorn.__version__}, starlette "
        f"{starlette.__version__}, fast-channels {version('fast-channels')}, websockets "
        f"{websockets.__version__}"
    )


# ---- main ----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    if args.quick:
        repeats, echo_s, bc_s = 3, 1.0, 1.0
        conn_counts, sizes = [1, 10, 100], [100, 500]
    else:
        repeats, echo_s, bc_s = 5, 3.0, 3.0
        conn_counts, sizes = [1, 10, 100], [10, 100, 500]
    if args.repeats:
        repeats = args.repeats
    servers: list[Server] = []
    started = time.monotonic()
    try:
        for name in APPS:
            servers.append(start_server(name))
        by_name = {s.name: s for s in servers}
        echo: dict = {(a, n): [] for a in APPS for n in conn_counts}
        bc: dict = {(a, n): [] for a in BROADCAST_APPS for n in sizes}
        for rep in range(repeats):
            # rotate the app order each repeat so no app always runs first
            order = APPS[rep % len(APPS) :] + APPS[: rep % len(APPS)]
            for n in conn_counts:
                for app in order:
                    echo[(app, n)].append(await echo_run(by_name[app], n, echo_s))
            if not args.no_broadcast:
                for n in sizes:
                    for app in order:
                        if app in BROADCAST_APPS:
                            bc[(app, n)].append(await broadcast_run(by_name[app], n, bc_s))
            print(
                f"repeat {rep + 1}/{repeats} done ({time.monotonic() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    finally:
        stop_servers(servers)
    print(
        f"# chanspec benchmark ({'quick' if args.quick else 'full'}, {repeats} interleaved "
        "repeats, medians; ratios are paired against raw of the same repeat)\n"
    )
    print(f"Machine: {machine()}\n")
    print("## Echo (one outstanding message per connection)\n")
    print(echo_table(echo, conn_counts))
    if not args.no_broadcast:
        print("\n## Group broadcast, in-memory layer (one sender, all members receive)\n")
        print(broadcast_table(bc, sizes))
    print(f"\nTotal {time.monotonic() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (under 2 minutes)")
    parser.add_argument("--repeats", type=int, default=0, help="override the repeat count")
    parser.add_argument("--no-broadcast", action="store_true", help="echo only")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
