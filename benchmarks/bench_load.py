"""Many sessions at once: N light clients (Bokeh's `pull_session`, no browser) open the dashboard and
change the arm filter in turn for a while; prints p50/p95 filter-change latency, errors and server memory.

    python benchmarks/bench_load.py                                  # 30 sessions, 120 s, bundled trial
    python benchmarks/bench_load.py /tmp/big --sessions 10 --seconds 60 --num-procs 2

Serves the app (`python -m dashboard serve`) on 127.0.0.1. Each client runs in its own thread with its
own event loop: it pulls a session (the server builds the page as for a browser; one session opens
every --ramp seconds, as people arrive, not all in the same instant), then repeatedly picks
the next arm in the filter (one arm, the other, all) and measures the time from sending the change to
the server's reply settling: the patient count has changed and no further update arrived for QUIET_S.
A latency is counted from the client's own clock; `errors` are sessions that failed to open (Bokeh's
client gives up on a connection after 20 s) or
changes with no reply within TIMEOUT_S. Memory: the server processes' resident set (VmRSS, /proc)
idle before the clients, at the end with the sessions open, and after they closed. Load average is
printed next to the figures (the machine is shared). A script, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUIET_S = 0.3
TIMEOUT_S = 120.0


def serve(data: str | None, port: int, num_procs: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "dashboard", "serve", "--port", str(port), "--num-procs", str(num_procs)]
    if data:
        cmd.insert(4, data)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=5)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("server exited")
            time.sleep(0.5)
    raise RuntimeError("server did not start")


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (MiB)."""
    total = 0.0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


class Client(threading.Thread):
    """One light session changing the arm filter until `stop` is set."""

    def __init__(self, url: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.stop = url, stop
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.opened = threading.Event()

    def run(self) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        from bokeh.client import pull_session
        from tornado.ioloop import IOLoop

        loop = IOLoop.current()
        try:
            session = pull_session(url=self.url, io_loop=loop)
        except Exception as exc:  # a session that cannot open is an error of the benchmark's figures
            self.errors.append(f"open: {exc}")
            self.opened.set()
            return
        self.opened.set()
        doc = session.document
        last_change = [time.perf_counter()]
        doc.on_change(lambda event: last_change.__setitem__(0, time.perf_counter()))
        arm = next(m for m in doc.models if type(m).__name__ == "MultiChoice" and m.title == "Arm")
        count = next(m for m in doc.models if "patient-count" in str(getattr(m, "text", "")))
        choices = [[arm.options[0]], [arm.options[-1]], []]
        # Server messages are read by the connection's `_next` coroutine while the loop runs (what
        # `ClientSession.loop_until_closed` does); the loop runs until the reply has settled.
        connection = session._connection
        connection._until_predicate = lambda: False
        loop.add_callback(connection._next)
        step = 0
        while not self.stop.is_set():
            before, start = count.text, time.perf_counter()
            outcome = []

            def check() -> None:
                now = time.perf_counter()
                if count.text != before and now - last_change[0] >= QUIET_S:
                    outcome.append(last_change[0] - start)
                elif now - start > TIMEOUT_S:
                    outcome.append(None)
                else:
                    loop.call_later(0.02, check)
                    return
                loop.stop()

            arm.value = [o[0] if isinstance(o, (tuple, list)) else o for o in choices[step % 3]]
            step += 1
            loop.add_callback(check)
            loop.start()
            if outcome[0] is None:
                self.errors.append(f"no reply within {TIMEOUT_S:.0f} s")
            else:
                self.latencies.append(outcome[0])
        session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=None, help="data folder (default: the bundled trial)")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the clients change filters")
    parser.add_argument("--num-procs", type=int, default=1)
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds between two sessions opening")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.net import free_port

    import panel.models  # noqa: F401  (the client must know the document's Panel model types)
    import panel.models.location  # noqa: F401
    import panel.models.tabulator  # noqa: F401
    from dashboard.views.address import AddressBar

    AddressBar(query="").get_root()  # defines the address bar's Bokeh model, as the server does

    port = free_port()
    server = serve(args.data, port, args.num_procs)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=600).read()  # warm: the first page
        idle = rss_mib(server.pid)
        stop = threading.Event()
        clients = [Client(f"http://127.0.0.1:{port}/", stop) for _ in range(args.sessions)]
        start = time.perf_counter()
        for client in clients:
            client.start()
            time.sleep(args.ramp)
        for client in clients:
            client.opened.wait(timeout=600)
        opened = time.perf_counter() - start
        time.sleep(args.seconds)
        busy = rss_mib(server.pid)
        stop.set()
        for client in clients:
            client.join(timeout=TIMEOUT_S + 30)
        time.sleep(5)
        after = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    latencies = sorted(x for c in clients for x in c.latencies)
    errors = [e for c in clients for e in c.errors]
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else float("nan")
    print(f"{args.sessions} sessions, {args.num_procs} process(es), data {args.data or 'bundled'}; "
          f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"all sessions open after {opened:.1f} s; {len(latencies)} filter changes in {args.seconds:.0f} s")
    print(f"filter change to settled: p50 {statistics.median(latencies) if latencies else float('nan'):.2f} s, "
          f"p95 {p95:.2f} s, max {max(latencies, default=float('nan')):.2f} s; errors {len(errors)}"
          + (f" (first: {errors[0]})" if errors else ""))
    print(f"server RSS: idle {idle:.0f} MiB, {args.sessions} sessions {busy:.0f} MiB "
          f"(+{(busy - idle) / max(args.sessions, 1):.1f} MiB/session), after closing {after:.0f} MiB")


if __name__ == "__main__":
    main()
