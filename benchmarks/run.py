"""One-command benchmark: raw Starlette vs fast-channels vs chanx vs chanspec, real servers.

    python -m benchmarks.run            # full: 5 repeats, 3 s windows, broadcast 10/100/500
    python -m benchmarks.run --quick    # 3 repeats, 1 s windows, broadcast 10/500 (~5 min)

Each app runs in its own uvicorn process on 127.0.0.1 (``benchmarks/apps.py``), plus a second
process of each app for the two-process scenarios; a ``redis-server`` is started on a free port
for the Redis layers (or ``--redis-url`` is used; ``--no-redis`` leaves them out). Clients are
real ``websockets`` connections from this process (compression off). Server CPU time is read
from ``/proc/<pid>/stat`` (utime + stime) right before and after each timed window; for two
processes it is the sum of both. Runs are interleaved (repeat -> scenario -> app, the app order
rotated each repeat) and every ratio is paired: app / baseline of the same repeat, then the
median over repeats. Everything is time-bounded and every process started is stopped at the
end. This is a script, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websockets

APPS = ("raw", "fc", "chanx", "chanspec")
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYER_NAMES = {"memory": "in-memory", "pubsub": "Redis pub/sub", "queue": "Redis queue"}


def apps_for(layer: str) -> tuple[str, ...]:
    """Apps that have a room on ``layer`` (raw has no queue layer)."""
    return APPS if layer != "queue" else ("fc", "chanx", "chanspec")


# ---- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{what} did not start")


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

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


def start_server(name: str, redis_url: str | None) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.apps", name, str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wait_port(port, proc, f"server {name}")
    return Server(name, port, proc)


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: install it or pass --no-redis / --redis-url")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="chanspec-bench-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_port(port, proc, "redis-server")
    return proc, f"redis://127.0.0.1:{port}/0"


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


# ---- clients ---------------------------------------------------------------------------


async def connect_many(urls: list[str]) -> list[websockets.ClientConnection]:
    sem = asyncio.Semaphore(50)

    async def one(url: str) -> websockets.ClientConnection:
        async with sem:
            return await websockets.connect(
                url, compression=None, open_timeout=20, max_queue=None, ping_interval=None
            )

    return list(await asyncio.gather(*(one(u) for u in urls)))


async def close_all(conns: list[websockets.ClientConnection]) -> None:
    await asyncio.gather(*(asyncio.wait_for(c.close(), 5) for c in conns), return_exceptions=True)


def frame(action: str, seq: int) -> str:
    return json.dumps({"action": action, "payload": {"text": "hello world", "seq": seq}})


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
        return self.cpu / max(1, self.msgs)

    def pct(self, q: float) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, int(q * len(lat)))]


async def echo_run(server: Server, n_conns: int, seconds: float) -> EchoResult:
    conns = await connect_many([server.url("/ws/echo")] * n_conns)
    latencies: list[float] = []
    counts = [0] * n_conns
    phase = {"measure": False, "stop": False}

    async def loop(i: int, ws: websockets.ClientConnection) -> None:
        seq = 0
        while not phase["stop"]:
            seq += 1
            t = time.perf_counter()
            await ws.send(frame("echo", seq))
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
        return self.cpu / max(1, self.deliveries)

    @property
    def p50(self) -> float:
        return statistics.median(self.round_times)


async def broadcast_run(
    servers: list[Server], layer: str, members: int, seconds: float
) -> BroadcastResult:
    """One sender on ``servers[0]``; members spread evenly over ``servers``."""
    path = f"/ws/room/{layer}"
    urls = [servers[i * len(servers) // members].url(path) for i in range(members)]
    conns = await connect_many(urls)
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
    await asyncio.sleep(0.3)  # let every member's group join (and subscription) finish

    async def one_round(seq: int) -> float:
        state["count"] = 0
        done.clear()
        t = time.perf_counter()
        await conns[0].send(frame("broadcast", seq))
        await asyncio.wait_for(done.wait(), 10)
        return time.perf_counter() - t

    def cpu() -> float:
        return sum(cpu_seconds(s.pid) for s in servers)

    try:
        for seq in range(3):  # warm-up
            await one_round(-seq)
        times: list[float] = []
        cpu0, t0 = cpu(), time.perf_counter()
        while time.perf_counter() - t0 < seconds or len(times) < 3:
            times.append(await one_round(len(times)))
        cpu1, t1 = cpu(), time.perf_counter()
    finally:
        await close_all(conns)
        for r in readers:
            r.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return BroadcastResult(members, len(times), t1 - t0, cpu1 - cpu0, times)


# ---- reporting ---------------------------------------------------------------------------

Results = dict[tuple[str, tuple[Any, ...]], list[Any]]


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def paired(
    results: Results,
    a: tuple[str, tuple[Any, ...]],
    b: tuple[str, tuple[Any, ...]],
    metric: Callable[[Any], float],
) -> float:
    """Median over repeats of metric(a) / metric(b) within the same repeat (failed runs skipped)."""
    ratios = [
        metric(x) / metric(y)
        for x, y in zip(results.get(a, []), results.get(b, []), strict=False)
        if x is not None and y is not None and metric(y) > 0
    ]
    return med(ratios)


def ok(rs: list[Any]) -> list[Any]:
    return [r for r in rs if r is not None]


def fmt_ratio(x: float) -> str:
    return "–" if x != x else f"{x:.2f}x"


def echo_table(results: Results, conn_counts: list[int]) -> str:
    lines = [
        "| app | conns | msgs/s | p50 ms | p99 ms | server CPU µs/msg "
        "| throughput vs raw | p99 vs raw | CPU/msg vs raw |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in conn_counts:
        key = ("echo", n)
        for app in APPS:
            rs = ok(results.get((app, key), []))
            if not rs:
                lines.append(f"| {app} | {n} | failed | | | | | | |")
                continue
            base = ("raw", key)
            lines.append(
                f"| {app} | {n} | {med([r.rate for r in rs]):,.0f} "
                f"| {med([r.pct(0.5) for r in rs]) * 1e3:.3f} "
                f"| {med([r.pct(0.99) for r in rs]) * 1e3:.3f} "
                f"| {med([r.cpu_per_msg for r in rs]) * 1e6:.1f} "
                f"| {fmt_ratio(paired(results, (app, key), base, lambda r: r.rate))} "
                f"| {fmt_ratio(paired(results, (app, key), base, lambda r: r.pct(0.99)))} "
                f"| {fmt_ratio(paired(results, (app, key), base, lambda r: r.cpu_per_msg))} |"
            )
    return "\n".join(lines)


def broadcast_table(results: Results, layer: str, sizes: list[int], procs: int) -> str:
    lines = [
        "| app | members | all-received p50 ms | deliveries/s | server CPU µs/delivery "
        "| deliveries/s vs raw | CPU/delivery vs raw"
        + (" | CPU/delivery vs 1 process |" if procs == 2 else " |"),
        "|---|---:|---:|---:|---:|---:|---:" + ("|---:|" if procs == 2 else "|"),
    ]
    kind = "bc2" if procs == 2 else "bc"
    for n in sizes:
        key = (kind, layer, n)
        base = ("raw", ("bc", "memory", n))  # raw Starlette, one process, set of sockets
        for app in apps_for(layer):
            rs = ok(results.get((app, key), []))
            if not rs:
                continue
            row = (
                f"| {app} | {n} | {med([r.p50 for r in rs]) * 1e3:.2f} "
                f"| {med([r.deliveries_per_s for r in rs]):,.0f} "
                f"| {med([r.cpu_per_delivery for r in rs]) * 1e6:.1f} "
                f"| {fmt_ratio(paired(results, (app, key), base, lambda r: r.deliveries_per_s))} "
                f"| {fmt_ratio(paired(results, (app, key), base, lambda r: r.cpu_per_delivery))}"
            )
            if procs == 2:
                single = (app, ("bc", layer, n))
                vs_single = paired(results, (app, key), single, lambda r: r.cpu_per_delivery)
                row += f" | {fmt_ratio(vs_single)}"
            lines.append(row + " |")
    return "\n".join(lines)


def targets_table(results: Results, sizes: list[int], layers: list[str]) -> str:
    """chanspec against the issue 5 targets, and against fast-channels and chanx."""
    cpu_msg: Callable[[Any], float] = lambda r: r.cpu_per_msg  # noqa: E731
    cpu_del: Callable[[Any], float] = lambda r: r.cpu_per_delivery  # noqa: E731
    lines = [
        "| measure (server CPU, paired median) | target | chanspec | fast-channels | chanx |",
        "|---|---:|---:|---:|---:|",
    ]
    key = ("echo", 100)
    lines.append(
        "| echo at 100 connections vs raw | ≤ 1.15x | "
        + " | ".join(
            fmt_ratio(paired(results, (a, key), ("raw", key), cpu_msg))
            for a in ("chanspec", "fc", "chanx")
        )
        + " |"
    )
    n = max(sizes)
    for layer in layers:
        target = "≤ 3x" if layer == "queue" else "≤ 1.5x"
        key = ("bc", layer, n)
        base = ("raw", ("bc", "memory", n))
        lines.append(
            f"| broadcast to {n}, {LAYER_NAMES[layer]}, per delivery vs raw | {target} | "
            + " | ".join(
                fmt_ratio(paired(results, (a, key), base, cpu_del))
                for a in ("chanspec", "fc", "chanx")
            )
            + " |"
        )
    for layer in layers:
        if layer == "memory":
            continue
        key2 = ("bc2", layer, n)
        lines.append(
            f"| two processes / one, broadcast to {n}, {LAYER_NAMES[layer]} | ≤ 1.10x | "
            + " | ".join(
                fmt_ratio(paired(results, (a, key2), (a, ("bc", layer, n)), cpu_del))
                for a in ("chanspec", "fc", "chanx")
            )
            + " |"
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

    def v(dist: str) -> str:
        try:
            return version(dist)
        except Exception:
            return "?"

    return (
        f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, Python "
        f"{platform.python_version()}, uvicorn {v('uvicorn')}, starlette {v('starlette')}, "
        f"fast-channels {v('fast-channels')}, chanx {v('chanx')}, pydantic {v('pydantic')}, "
        f"redis-py {v('redis')}, websockets {v('websockets')}"
    )


def load_average() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# ---- main ---------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    if args.quick:
        repeats, echo_s, bc_s = 3, 1.0, 1.0
        conn_counts, sizes = [1, 10, 100], [10, 500]
    else:
        repeats, echo_s, bc_s = 5, 3.0, 3.0
        conn_counts, sizes = [1, 10, 100], [10, 100, 500]
    if args.repeats:
        repeats = args.repeats
    if args.sizes:
        sizes = [int(x) for x in args.sizes.split(",")]
    only = set(args.only.split(",")) if args.only else {"echo", "broadcast", "two"}
    procs: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    loads = [load_average()]
    results: Results = {}
    redis_url: str | None = None
    redis_proc: subprocess.Popen[bytes] | None = None
    try:
        if not args.no_redis:
            if args.redis_url:
                redis_url = args.redis_url
            else:
                redis_proc, redis_url = start_redis()
                procs.append(redis_proc)
        layers = ["memory", "pubsub", "queue"] if redis_url else ["memory"]
        main_servers: dict[str, Server] = {}
        second: dict[str, Server] = {}
        for name in APPS:
            main_servers[name] = start_server(name, redis_url)
            procs.append(main_servers[name].proc)
            if redis_url and "two" in only:
                second[name] = start_server(name, redis_url)
                procs.append(second[name].proc)

        async def record(app: str, key: tuple[Any, ...], coro: Any) -> None:
            try:
                result = await coro
            except Exception as exc:  # one failed run must not lose the others
                print(f"  {app} {key}: failed: {exc!r}", file=sys.stderr, flush=True)
                result = None
            results.setdefault((app, key), []).append(result)

        for rep in range(repeats):
            # rotate the app order each repeat so that no app always runs first
            rot = rep % len(APPS)
            order = APPS[rot:] + APPS[:rot]
            if "echo" in only:
                for n in conn_counts:
                    for app in order:
                        await record(app, ("echo", n), echo_run(main_servers[app], n, echo_s))
            if "broadcast" in only:
                for layer in layers:
                    for n in sizes:
                        for app in order:
                            if app in apps_for(layer):
                                await record(
                                    app,
                                    ("bc", layer, n),
                                    broadcast_run([main_servers[app]], layer, n, bc_s),
                                )
            if "two" in only and redis_url:
                for layer in layers[1:]:
                    for n in sizes:
                        for app in order:
                            if app in apps_for(layer):
                                pair = [main_servers[app], second[app]]
                                await record(
                                    app, ("bc2", layer, n), broadcast_run(pair, layer, n, bc_s)
                                )
            loads.append(load_average())
            print(
                f"repeat {rep + 1}/{repeats} done ({time.monotonic() - started:.0f} s, "
                f"load {loads[-1]})",
                file=sys.stderr,
                flush=True,
            )
    finally:  # the app servers first: Redis going away under them would log errors
        stop_all(procs[1:] if redis_proc is not None else procs)
        if redis_proc is not None:
            stop_all([redis_proc])
    layers_run = ["memory", "pubsub", "queue"] if redis_url else ["memory"]
    print(
        f"# chanspec benchmark ({'quick' if args.quick else 'full'}, {repeats} interleaved "
        "repeats, medians; ratios are paired against the baseline of the same repeat)\n"
    )
    print(f"Machine: {machine()}  ")
    print(f"Load average (1/5/15 min) at start and after each repeat: {'; '.join(loads)}\n")
    if "echo" in only:
        print("## Echo (one outstanding message per connection)\n")
        print(echo_table(results, conn_counts))
    if "broadcast" in only:
        for layer in layers_run:
            print(f"\n## Group broadcast, {LAYER_NAMES[layer]} layer, one process\n")
            print(broadcast_table(results, layer, sizes, 1))
    if "two" in only and redis_url:
        for layer in layers_run[1:]:
            print(f"\n## Group broadcast, {LAYER_NAMES[layer]} layer, two processes, one Redis\n")
            print(broadcast_table(results, layer, sizes, 2))
    if only == {"echo", "broadcast", "two"}:
        print("\n## chanspec against the issue 5 targets\n")
        print(targets_table(results, sizes, layers_run))
    print(f"\nTotal {time.monotonic() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    f"{app}|{'|'.join(map(str, key))}": [
                        None if r is None else {k: v for k, v in vars(r).items()} for r in rs
                    ]
                    for (app, key), rs in results.items()
                },
                f,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (about 5 minutes)")
    parser.add_argument("--repeats", type=int, default=0, help="override the repeat count")
    parser.add_argument("--sizes", default="", help="broadcast group sizes, e.g. 10,100,500")
    parser.add_argument(
        "--only", default="", help="comma-separated subset of: echo, broadcast, two"
    )
    parser.add_argument("--redis-url", default="", help="use this Redis instead of starting one")
    parser.add_argument("--no-redis", action="store_true", help="in-memory layer only")
    parser.add_argument("--json", default="", help="also write every raw result to this file")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
