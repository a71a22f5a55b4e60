"""Load test of the server, not of browsers: simulated students over Streamlit's websocket protocol, run by Locust.

Run: ``python benchmarks/load.py [--quick] [--scenario all|ratio|capacity|scale|lecture] [--students 200]``
(``--help`` lists every option). Needs the ``load`` extra (``pip install -e ".[load]"``) and Debian's haproxy.

Each simulated student is a Locust ``User`` holding one Streamlit session (benchmarks/stclient.py speaks the
protocol: the page's HTTP requests, the websocket ``/_stcore/stream``, BackMsg ``rerun_script`` with the full widget
states, ForwardMsgs until ``script_finished``). A student opens the Backward pass page, waits until every student has
opened it (so that idle memory can be measured), and then moves the w5 slider (``sb_w_1_0_0``, widget id read from
the slider's delta) to a new value every ``--period`` seconds, with jitter. Each reply is checked: the "E total"
metric must show ``bpviz.numbers.text(engine.forward(seed with w5 = v).loss, 4)``; anything else is a wrong number.
Locust schedules the students and counts requests (``events.request``; ``--csv PREFIX`` writes its CSV files).

The script starts what it measures with deploy/serve.py: the real app with 2 replicas behind HAProxy, and
benchmarks/bare_app.py (the same sidebar widget keys, one text element) with 1 replica for the floor.

Scenarios (all in one run by default; every ratio is measured in the same run):

* ``ratio``: one student on each app, moves back to back and interleaved: reply time of one rerun of the real app and
  of the bare app.
* ``capacity``: closed loop (every student moves again as soon as the reply is there), ``--per-replica`` students
  per replica, on 1 replica (the other one set to maintenance in HAProxy) and on 2: throughput and p95 when the
  machine is saturated (its cores also run this load generator and the proxy).
* ``scale``: open loop, as in a lecture: ``--scale-students`` students on 1 replica, then 1.7 times as many on 2,
  one move every ``--period`` s each: throughput at the same p95.
* ``lecture``: ``--students`` students on 2 replicas, one move every ``--period`` s each; then the sessions close and
  the memory is followed until the disconnected sessions have expired (``server.disconnectedSessionTTL``, set to
  ``--ttl`` here; Streamlit's default is 120 s).

Server CPU is read from /proc/<pid>/stat of the replicas (HAProxy's own CPU is reported apart), memory from VmRSS.
The load generator's own CPU (this process) is reported too: it shares the machine's cores with the server.
Also usable as a plain locustfile against a running server:
``locust -f benchmarks/load.py --headless -u 200 -r 20 -t 2m --host http://127.0.0.1:8501 --csv out``.
"""

from gevent import monkey

monkey.patch_all()  # before anything opens sockets (Locust does the same when imported first)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import gevent.pool  # noqa: E402
import numpy as np  # noqa: E402
from _common import ROOT, Row, machine_line, seed_scenario  # noqa: E402
from locust import User, between, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402
from stclient import ProtocolError, Reply, StreamlitSession  # noqa: E402

sys.path.insert(0, str(ROOT / "deploy"))
from serve import Cluster, ServeError  # noqa: E402

from bpviz import engine, numbers  # noqa: E402

SLIDER = "sb_w_1_0_0"  # w5 of the seed network: weights[1][0][0]
PAGE = "backward"
PAGE_WIDGET = "nav_backward_step"  # a widget only that page has: every reply must still be that page
BARE_APP = ROOT / "benchmarks" / "bare_app.py"
GRID = [round(-1.0 + 0.01 * i, 2) for i in range(201)]
CLK_TCK = os.sysconf("SC_CLK_TCK")


class WrongNumber(AssertionError):
    """The reply does not show the number the engine computes for the value sent."""


# ---------------------------------------------------------------- what the page must show


_expected_cache: dict[float, str] = {}


def expected_loss(w5: float) -> str:
    """E total as the page shows it for the seed with this w5 (``bpviz.numbers.text(loss, 4)``)."""
    if w5 not in _expected_cache:
        s = seed_scenario()
        W = [w.copy() for w in s.weights]
        W[1][0, 0] = w5
        _expected_cache[w5] = numbers.text(engine.forward(s.with_parameters(W, s.biases)).loss, 4)
    return _expected_cache[w5]


def check_reply(reply: Reply, w5: float, bare: bool) -> None:
    """Raise WrongNumber unless the reply shows what it must for w5 = ``w5``."""
    if reply.errors or reply.exceptions:
        raise WrongNumber(f"the page shows an error: {(reply.errors + reply.exceptions)[0][:120]}")
    if bare:
        want = f"w5 = {w5:.4f}"
        if want not in reply.texts:
            raise WrongNumber(f"w5={w5}: expected text {want!r}, got {reply.texts}")
        return
    if PAGE_WIDGET not in reply.widgets:
        raise WrongNumber(f"w5={w5}: the reply is not the {PAGE} page (no {PAGE_WIDGET} widget)")
    got, want = reply.metrics.get("E total"), expected_loss(w5)
    if got != want:
        raise WrongNumber(f"w5={w5}: E total {got!r}, the engine says {want!r}")


# ---------------------------------------------------------------- shared state of one load phase


@dataclass
class Phase:
    """What the students of the running phase share with the driver."""

    page: str = PAGE
    bare: bool = False
    period: float = 5.0
    jitter: float = 0.5
    stagger: bool = True
    timeout: float = 60.0
    go: gevent.event.Event = field(default_factory=gevent.event.Event)
    measuring: bool = False
    opened: int = 0
    open_failed: int = 0
    samples: list[float] = field(default_factory=list)  # reply times (s) of moves while measuring
    errors: int = 0
    wrong: int = 0
    nbytes: int = 0
    sessions: list[StreamlitSession] = field(default_factory=list)
    error_examples: list[str] = field(default_factory=list)

    def note_error(self, text: str) -> None:
        if len(self.error_examples) < 3:
            self.error_examples.append(text)


PHASE = Phase()


def fire(name: str, started: float, nbytes: int, exc: BaseException | None) -> None:
    events.request.fire(request_type="WS", name=name, response_time=(time.perf_counter() - started) * 1000,
                        response_length=nbytes, exception=exc, context={})


class Student(User):
    """One student: open the page, wait for the start, then move w5 every ``period`` seconds (with jitter)."""

    wait_time = between(2.5, 7.5)  # replaced by the driver; as a plain locustfile: one move every 5 s on average

    def on_start(self) -> None:
        phase = PHASE
        self.session = StreamlitSession(self.host, phase.page, timeout=phase.timeout)
        phase.sessions.append(self.session)
        started = time.perf_counter()
        try:
            reply = self.session.connect()
            check_reply(reply, 0.40, phase.bare)  # the seed's w5
        except (ProtocolError, WrongNumber, OSError) as exc:
            phase.open_failed += 1
            phase.note_error(f"open: {exc}")
            fire("open page", started, 0, exc)
            raise StopUser() from exc
        fire("open page", started, reply.nbytes, None)
        phase.opened += 1
        self.value = 0.40
        if not phase.go.is_set() and self.environment.parsed_options is None:
            phase.go.wait()  # driver mode: everyone idles until the driver starts the moves
        if phase.stagger:
            gevent.sleep(random.uniform(0, phase.period))  # spread the first moves over one period

    @task
    def move_w5(self) -> None:
        phase = PHASE
        value = random.choice([v for v in GRID if abs(v - self.value) > 0.005])
        started = time.perf_counter()
        try:
            reply = self.session.set_slider(SLIDER, value)
            check_reply(reply, value, phase.bare)
        except WrongNumber as exc:
            if phase.measuring:
                phase.wrong += 1
                phase.note_error(str(exc))
            fire("move w5", started, 0, exc)
            self.value = value
            return
        except (ProtocolError, OSError) as exc:
            if phase.measuring:
                phase.errors += 1
                phase.note_error(f"move: {exc}")
            fire("move w5", started, 0, exc)
            raise StopUser() from exc
        self.value = value
        if phase.measuring:
            phase.samples.append(reply.elapsed)
            phase.nbytes += reply.nbytes
        fire("move w5", started, reply.nbytes, None)

    def on_stop(self) -> None:
        with contextlib.suppress(Exception):
            self.session.close()


# ---------------------------------------------------------------- server processes: CPU and memory


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (s), from /proc/<pid>/stat."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes together (MB, VmRSS)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def machine_busy() -> float:
    """CPU seconds spent by the whole machine so far (all cores, everything but idle and iowait), /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def replica_pids(cluster: Cluster) -> list[int]:
    return [pid for name, pid in cluster.pids().items() if name != "haproxy"]


def proxy_pids(cluster: Cluster) -> list[int]:
    return [pid for name, pid in cluster.pids().items() if name == "haproxy"]


# ---------------------------------------------------------------- one load phase with Locust


@dataclass
class Result:
    """The numbers of one phase."""

    label: str
    sessions: int
    seconds: float
    samples: list[float]
    errors: int
    wrong: int
    server_cpu: float  # s, replicas, during the measured window
    proxy_cpu: float
    own_cpu: float
    open_failed: int = 0
    machine_cpu: float = float("nan")  # s, the whole machine during the window (everything on it)
    rss: dict[str, float] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.samples) * 1000, q)) if self.samples else float("nan")

    @property
    def other_cores(self) -> float:
        """Cores busy with other work on the machine during the window (not the server, proxy or this script)."""
        return max(0.0, self.machine_cpu - self.server_cpu - self.proxy_cpu - self.own_cpu) / self.seconds

    @property
    def cpu_per_move_ms(self) -> float:
        return 1000 * self.server_cpu / len(self.samples) if self.samples else float("nan")


def run_phase(label: str, url: str, pids: list[int], proxy: list[int], *, users: int, wait: Callable[..., float],
              duration: float, warmup: float = 2.0, spawn_rate: float = 25.0, period: float = 5.0, stagger: bool = True,
              bare: bool = False, page: str = PAGE, csv_prefix: str | None = None,
              keep_open: bool = False) -> tuple[Result, Environment]:
    """Spawn ``users`` students, let them all open the page, start the moves, measure ``duration`` s after
    ``warmup``; with ``keep_open`` the sessions stay open (the caller closes them with :func:`close_phase`)."""
    global PHASE
    PHASE = Phase(page=page, bare=bare, period=period, stagger=stagger)
    Student.wait_time = wait
    env = Environment(user_classes=[Student], events=events, host=url)
    runner = env.create_local_runner()
    writer = None
    if csv_prefix:
        from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter

        writer = StatsCSVFileWriter(env, PERCENTILES_TO_REPORT, f"{csv_prefix}_{label}", full_history=False)
        writer_greenlet = gevent.spawn(writer)
    runner.start(users, spawn_rate=spawn_rate)
    deadline = time.monotonic() + 30 + users / spawn_rate * 4
    while PHASE.opened + PHASE.open_failed < users and time.monotonic() < deadline:
        gevent.sleep(0.1)
    gevent.sleep(0.5)
    rss = {"idle": rss_mb(pids)}
    PHASE.go.set()
    gevent.sleep(warmup)
    cpu0, proxy0, own0, t0 = cpu_seconds(pids), cpu_seconds(proxy), own_cpu(), time.monotonic()
    busy0 = machine_busy()
    PHASE.measuring = True
    gevent.sleep(duration)
    PHASE.measuring = False
    seconds = time.monotonic() - t0
    cpu1, proxy1, own1, busy1 = cpu_seconds(pids), cpu_seconds(proxy), own_cpu(), machine_busy()
    rss["active"] = rss_mb(pids)
    if keep_open:  # stop the moves, keep the websockets
        runner.stop()
    else:
        runner.quit()
        close_phase()
    if writer is not None:
        writer.close_files()
        writer_greenlet.kill()
    result = Result(label, users, seconds, list(PHASE.samples), PHASE.errors, PHASE.wrong, cpu1 - cpu0,
                    proxy1 - proxy0, own1 - own0, PHASE.open_failed, busy1 - busy0, rss, list(PHASE.error_examples))
    return result, env


def close_phase() -> None:
    for s in PHASE.sessions:
        with contextlib.suppress(Exception):
            s.close()


def touch_replicas(cluster: Cluster, bare: bool = False) -> None:
    """Open and close one session directly on every replica (this also reaps expired disconnected sessions)."""
    for r in cluster.members:
        s = StreamlitSession(r.url, "" if bare else PAGE, timeout=60)
        s.connect()
        s.close()


# ---------------------------------------------------------------- scenarios


def scenario_ratio(real: Cluster, bare: Cluster, moves: int) -> list[Result]:
    """One student on each app, straight to one replica of each, moves back to back and interleaved (real, bare,
    bare, real, ...): both see the same moments of a shared, noisy machine, so their ratio holds steadier than
    two phases one after the other (measured here: 3.1-3.8x between back-to-back phases of one run)."""
    apps = [("one rerun, real app", real, False), ("one rerun, bare app", bare, True)]
    sessions = []
    for _, cluster, is_bare in apps:
        s = StreamlitSession(cluster.members[0].url, "" if is_bare else PAGE, timeout=60)
        s.connect()
        for v in (0.1, 0.2, 0.3):
            s.set_slider(SLIDER, v)
        sessions.append(s)
    pids = [[cluster.members[0].proc.pid] for _, cluster, _ in apps]
    cpu0, own0, t0, busy0 = [cpu_seconds(p) for p in pids], own_cpu(), time.monotonic(), machine_busy()
    samples: list[list[float]] = [[], []]
    wrong = [0, 0]
    for i in range(moves):
        v = GRID[(37 * i + 11) % len(GRID)]
        for k in ((0, 1) if i % 2 == 0 else (1, 0)):
            reply = sessions[k].set_slider(SLIDER, v)
            try:
                check_reply(reply, v, apps[k][2])
            except WrongNumber:
                wrong[k] += 1
            samples[k].append(reply.elapsed)
    seconds, own, busy = time.monotonic() - t0, own_cpu() - own0, machine_busy() - busy0
    out = [Result(label, 1, seconds, samples[k], 0, wrong[k], cpu_seconds(pids[k]) - cpu0[k], 0.0, own / 2,
                  machine_cpu=busy) for k, (label, _, _) in enumerate(apps)]
    for s in sessions:
        s.close()
    return out


def ratio_spread(real: Result, bare: Result, parts: int = 4) -> tuple[float, float]:
    """The lowest and highest real/bare ratio of medians over ``parts`` consecutive slices of the interleaved moves."""
    n = len(real.samples) // parts
    ratios = [statistics.median(real.samples[i * n:(i + 1) * n]) / statistics.median(bare.samples[i * n:(i + 1) * n])
              for i in range(parts)]
    return min(ratios), max(ratios)


def set_replicas(cluster: Cluster, n: int) -> None:
    """Put every replica after the first ``n`` into maintenance in HAProxy (new sessions avoid them)."""
    for i, r in enumerate(cluster.members):
        cluster.haproxy_command(f"{'enable' if i < n else 'disable'} server streamlit/{r.name}")


def scenario_capacity(real: Cluster, per_replica: int, duration: float, csv: str | None) -> list[Result]:
    out = []
    for n in (1, len(real.members)):
        set_replicas(real, n)
        pids = [r.proc.pid for r in real.members[:n]]
        result, _ = run_phase(f"closed loop, {n} replica(s)", real.url, pids, proxy_pids(real),
                              users=per_replica * n, wait=constant(0), duration=duration, stagger=False,
                              csv_prefix=csv)
        out.append(result)
    set_replicas(real, len(real.members))
    return out


SCALE = 1.7  # the target: 2 replicas serve this many times the students of 1, at the same p95


def scenario_scale(real: Cluster, students: int, period: float, jitter: float, duration: float,
                   csv: str | None, factor: float = SCALE) -> list[Result]:
    """Open loop, as in a lecture: ``students`` on 1 replica, then ``factor`` times as many on all of them, each moving
    w5 every ``period`` s. Throughput at the same p95, where the closed loop above measures the machine's limit
    (its two cores also run this load generator and the proxy)."""
    out = []
    low, high = period * (1 - jitter), period * (1 + jitter)
    for n, users in ((1, students), (len(real.members), round(students * factor))):
        set_replicas(real, n)
        pids = [r.proc.pid for r in real.members[:n]]
        result, _ = run_phase(f"open loop, {users} students on {n} replica(s)", real.url, pids, proxy_pids(real),
                              users=users, wait=between(low, high), duration=duration, period=period,
                              spawn_rate=min(50.0, users), csv_prefix=csv)
        out.append(result)
    set_replicas(real, len(real.members))
    return out


def scenario_lecture(real: Cluster, students: int, period: float, jitter: float, duration: float, ttl: int,
                     csv: str | None) -> Result:
    pids = replica_pids(real)
    touch_replicas(real)  # every replica has run the page once (imports, SymPy templates): the warm baseline
    gevent.sleep(1.0)
    baseline = rss_mb(pids)
    low, high = period * (1 - jitter), period * (1 + jitter)
    result, _ = run_phase(f"{students} students, one move every {period:g} s", real.url, pids, proxy_pids(real),
                          users=students, wait=between(low, high), duration=duration, period=period,
                          spawn_rate=min(50.0, students), csv_prefix=csv, keep_open=True)
    result.rss["baseline"] = baseline
    close_phase()
    gevent.sleep(1.0)
    result.rss["closed"] = rss_mb(pids)
    gevent.sleep(ttl + 2)
    result.rss["expired"] = rss_mb(pids)  # expired, but Streamlit removes them only on its next session write
    touch_replicas(real)  # a new session's disconnect writes to the session storage, which reaps expired ones
    gevent.sleep(1.0)
    result.rss["reaped"] = rss_mb(pids)
    # a second class opens the page (no moves): does the memory freed by the first one get used again?
    second = [StreamlitSession(real.url, PAGE, timeout=60) for _ in range(students)]
    gevent.pool.Pool(25).map(lambda s: s.connect(), second)
    gevent.sleep(0.5)
    result.rss["second open"] = rss_mb(pids)
    for s in second:
        s.close()
    gevent.sleep(ttl + 2)
    touch_replicas(real)
    gevent.sleep(1.0)
    result.rss["second reaped"] = rss_mb(pids)
    return result


# ---------------------------------------------------------------- report


def fmt(x: float, unit: str = "ms") -> str:
    if x != x:  # NaN
        return "n/a"
    return f"{x:.0f} {unit}" if x >= 100 else f"{x:.1f} {unit}"


def table(results: list[Result]) -> str:
    lines = ["| phase | sessions | moves/s | p50 | p95 | p99 | errors | wrong numbers | server CPU per move | "
             "proxy CPU per move | load generator CPU | other work on the machine |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        n = max(len(r.samples), 1)
        lines.append(
            f"| {r.label} | {r.sessions} | {r.rate:.1f} | {fmt(r.pct(50))} | {fmt(r.pct(95))} | {fmt(r.pct(99))} | "
            f"{r.errors + r.open_failed} | {r.wrong} | {fmt(r.cpu_per_move_ms)} | {fmt(1000 * r.proxy_cpu / n)} | "
            f"{100 * r.own_cpu / r.seconds:.0f} % of a core | {r.other_cores:.2f} cores |")
    return "\n".join(lines)


def memory_table(r: Result, replicas: int, ttl: int) -> str:
    base = r.rss["baseline"]
    per = lambda key: 1024 * (r.rss[key] - base) / r.sessions  # noqa: E731 (KB per session)
    rows = [
        ("baseline: every replica warm (page run once), no session open", r.rss["baseline"], ""),
        (f"{r.sessions} sessions open, idle (before any move)", r.rss["idle"], f"{per('idle'):.0f} KB"),
        (f"{r.sessions} sessions open, after the moves", r.rss["active"], f"{per('active'):.0f} KB"),
        ("all sessions closed (kept for reconnection)", r.rss["closed"], f"{per('closed'):.0f} KB"),
        (f"TTL ({ttl} s) passed: expired, not yet removed", r.rss["expired"], f"{per('expired'):.0f} KB"),
        ("after one more session per replica (removes expired ones)", r.rss["reaped"], f"{per('reaped'):.0f} KB"),
        (f"then {r.sessions} new sessions open (a second class, no moves)", r.rss["second open"],
         f"{per('second open'):.0f} KB"),
        ("... closed, expired and removed again", r.rss["second reaped"], f"{per('second reaped'):.0f} KB"),
    ]
    lines = [f"| memory ({replicas} replicas together, VmRSS) | MB | vs baseline | per session |",
             "| --- | ---: | ---: | ---: |"]
    for what, mb, per_session in rows:
        lines.append(f"| {what} | {mb:.1f} | {100 * (mb - base) / base:+.1f} % | {per_session} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small and short (< 60 s): a smoke run, numbers rough")
    p.add_argument("--scenario", default="all", choices=["all", "ratio", "capacity", "scale", "lecture"],
                   help="which measurement (default: all four, see below)")
    p.add_argument("--students", type=int, default=200, help="lecture: simulated students (default %(default)s)")
    p.add_argument("--period", type=float, default=5.0, help="lecture: seconds between two moves of one student")
    p.add_argument("--jitter", type=float, default=0.5, help="lecture: the period varies by ± this fraction")
    p.add_argument("--duration", type=float, default=60.0, help="measured seconds per load phase")
    p.add_argument("--replicas", type=int, default=2, help="replicas of the real app (default %(default)s)")
    p.add_argument("--per-replica", type=int, default=4,
                   help="capacity: students per replica moving back to back (default %(default)s)")
    p.add_argument("--moves", type=int, default=200, help="ratio: timed moves per app (default %(default)s)")
    p.add_argument("--scale-students", type=int, default=110,
                   help="scale: students on 1 replica (default %(default)s: below one replica's limit here even on a "
                        "slow day; 150 saturated it on 2026-11-28)")
    p.add_argument("--scale", type=float, default=SCALE,
                   help="scale: on all replicas, this many times as many students (default %(default)s)")
    p.add_argument("--ttl", type=int, default=20,
                   help="server.disconnectedSessionTTL for this run, s (Streamlit's default: 120)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra Streamlit option for every replica (e.g. runner.postScriptGC=true)")
    p.add_argument("--plain-streamlit", action="store_true",
                   help="start replicas with plain `python -m streamlit` (Nagle's algorithm on) to compare")
    p.add_argument("--csv", metavar="PREFIX", help="also write Locust's CSV statistics with this prefix")
    p.add_argument("--json", type=Path, help="also write the reply times as rows for run_all.py (median, p95)")
    args = p.parse_args(argv)
    if args.quick:
        args.students, args.duration, args.moves, args.ttl, args.per_replica = 30, 6.0, 10, 3, 3
        args.scale_students = 20
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    options = dict(o.split("=", 1) for o in args.option)
    print(f"machine at the start: {machine_line()}", flush=True)
    started = time.monotonic()
    results: list[Result] = []
    lecture = None
    want = {"ratio", "capacity", "scale", "lecture"} if args.scenario == "all" else {args.scenario}
    real = Cluster(replicas=args.replicas, port=_free_port(), address="127.0.0.1", ttl=args.ttl, options=options,
                   restart=False, quiet=True, nodelay=not args.plain_streamlit)
    bare = Cluster(replicas=1, port=_free_port(), address="127.0.0.1", app=BARE_APP, ttl=args.ttl, options=options,
                   restart=False, quiet=True, nodelay=not args.plain_streamlit)
    try:
        real.start()
        if "ratio" in want:
            bare.start()
            ratio = scenario_ratio(real, bare, args.moves)
            results += ratio
            print(table(results), flush=True)
        if "capacity" in want:
            cap = scenario_capacity(real, args.per_replica, args.duration, args.csv)
            results += cap
            print(table(results[-len(cap):]), flush=True)
        if "scale" in want:
            scale = scenario_scale(real, args.scale_students, args.period, args.jitter, args.duration, args.csv,
                                   args.scale)
            results += scale
            print(table(results[-len(scale):]), flush=True)
        if "lecture" in want:
            lecture = scenario_lecture(real, args.students, args.period, args.jitter, args.duration, args.ttl,
                                       args.csv)
            results.append(lecture)
    except ServeError as exc:
        sys.exit(f"error: {exc}")
    finally:
        bare.stop()
        real.stop()
    launcher = "plain streamlit (Nagle on)" if args.plain_streamlit else "TCP_NODELAY"
    settings = (f"real app: {args.replicas} replicas behind HAProxy (deploy/serve.py), page {PAGE}, slider {SLIDER}; "
                f"streamlit options {options or 'as serve.py'}; {launcher}")
    print(f"\n### Load test (benchmarks/load.py{' --quick' if args.quick else ''})\n")
    print(f"{machine_line()} at the end; {time.monotonic() - started:.0f} s in all. {settings}.\n")
    print(table(results))
    notes = []
    names = {r.label: r for r in results}
    if "one rerun, real app" in names:
        a, b = names["one rerun, real app"], names["one rerun, bare app"]
        low, high = ratio_spread(a, b)
        notes.append(f"real/bare for one rerun (same run, moves interleaved): median {a.pct(50) / b.pct(50):.2f}x "
                     f"(quarters of the run: {low:.2f}-{high:.2f}x; target <= 3x), server CPU per move "
                     f"{a.cpu_per_move_ms / b.cpu_per_move_ms:.2f}x")
    caps = [r for r in results if r.label.startswith("closed loop")]
    if len(caps) == 2:
        notes.append(f"throughput {args.replicas} replicas / 1 replica: {caps[1].rate / caps[0].rate:.2f}x "
                     f"(p95 {fmt(caps[1].pct(95))} vs {fmt(caps[0].pct(95))})")
    opens = [r for r in results if r.label.startswith("open loop")]
    if len(opens) == 2:
        notes.append(f"open loop: {opens[1].sessions} students on {args.replicas} replicas "
                     f"({opens[1].rate:.1f} moves/s) vs {opens[0].sessions} on 1 ({opens[0].rate:.1f} moves/s): "
                     f"{opens[1].rate / opens[0].rate:.2f}x the throughput at p95 {fmt(opens[1].pct(95))} vs "
                     f"{fmt(opens[0].pct(95))} (target: >= {args.scale}x at the same p95 or better)")
    if lecture is not None:
        notes.append(f"lecture: p95 {fmt(lecture.pct(95))} (target <= 500 ms), errors {lecture.errors}, "
                     f"wrong numbers {lecture.wrong}, failed opens {lecture.open_failed}")
        print("\n" + memory_table(lecture, args.replicas, args.ttl))
    if args.json is not None:
        import json
        from dataclasses import asdict

        rows = [Row(f"load: {r.label}, reply time", "seed", r.pct(50), r.pct(95), len(r.samples),
                    note=f"{r.rate:.1f} moves/s, {r.errors} errors, {r.wrong} wrong") for r in results]
        args.json.write_text(json.dumps([asdict(x) for x in rows], indent=1))
    examples = [e for r in results for e in r.examples]
    if examples:
        notes.append("first errors: " + " | ".join(examples[:3]))
    print("\n" + "\n".join(f"- {n}" for n in notes))


def _free_port() -> int:
    from serve import free_port

    return free_port()


if __name__ == "__main__":
    main()
