"""Serve bpviz to a lecture hall: N Streamlit replicas behind HAProxy with cookie stickiness, in one command.

Run: ``python deploy/serve.py --replicas 2 --port 8501`` (Ctrl-C or SIGTERM stops everything). A ``bpviz serve``
subcommand can call :func:`main` with its own argument list.

Why replicas: one Streamlit process runs every script rerun under one GIL, so one process uses one core however
many students there are. Why a proxy with cookie stickiness: a Streamlit session lives in the memory of the process
that opened it (its websocket, its session state, its uploaded files); every request of a browser must reach that
process again. A lecture hall reaches the server from one NAT address, so stickiness by client address would put
every student on one replica; HAProxy inserts a ``SERVERID`` cookie instead (``insert indirect nocache``).

What is started, all bound to this machine's loopback except the proxy's front port:

* N ``streamlit run app.py`` processes on free local ports, in production settings (headless, no file watcher, no
  run-on-save, no usage statistics, XSRF protection on, no forced full garbage collection after every rerun, one
  shared cookie secret passed through the environment), each started through ``deploy/replica.py``, which turns on
  TCP_NODELAY (Streamlit 1.67 leaves Nagle's algorithm on, which costs ~40 ms per rerun);
* Debian's ``haproxy`` (``apt-get install haproxy``) with a generated configuration in a temporary directory:
  websockets (``timeout tunnel``), health checks on ``/_stcore/health`` every second (a replica that stops answering
  gets no new sessions after about two seconds, and a student whose replica died reconnects to a live one), gzip for
  text assets (Streamlit itself leaves ``/static/`` uncompressed), ``Cache-Control: public, max-age=31536000,
  immutable`` for the hashed ``/static/`` bundles, and a response header ``X-Bpviz-Replica`` naming the replica that
  answered (for tests and for debugging; it tells nothing secret).

A replica that exits is started again on its port (``--no-restart`` turns that off), at most ``MAX_RESTARTS`` times.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
HEALTH = "/_stcore/health"
REPLICA_HEADER = "X-Bpviz-Replica"
COOKIE = "SERVERID"
MAX_RESTARTS = 5
STATIC_MAX_AGE = 31536000  # one year: /static/ file names carry a content hash

# Streamlit options of every replica (on top of the app's .streamlit/config.toml, which still applies)
PRODUCTION_OPTIONS: dict[str, str] = {
    "server.headless": "true",
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "browser.gatherUsageStats": "false",
    "global.developmentMode": "false",
    "server.enableXsrfProtection": "true",
    "server.enableCORS": "true",
    "server.maxUploadSize": "1",  # MB, as .streamlit/config.toml and the uploader say (UPLOAD_LIMIT_MB)
    "client.showErrorDetails": "none",
    "logger.level": "warning",
    # Streamlit runs gc.collect(2) after every script run by default. With bpviz's heap (SymPy, Plotly, NumPy) that
    # is ~45 ms of CPU under the GIL per rerun, which the reply waits for; Python's own generational GC still runs
    "runner.postScriptGC": "false",
    # lets serve.py run the app once in every replica before the first student arrives (imports, SymPy templates)
    "server.scriptHealthCheckEnabled": "true",
}
REPLICA = Path(__file__).resolve().parent / "replica.py"  # streamlit's CLI with TCP_NODELAY (see replica.py)


class ServeError(RuntimeError):
    """Something needed to serve is missing or did not start; the message says what."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when serve.py itself dies, even by SIGKILL (Linux; else nothing).

    Children also run in their own session (``start_new_session``): a terminal's Ctrl-C reaches serve.py alone,
    which then stops the proxy first and the replicas after it. The kernel ties the signal to the thread that
    started the child: start a Cluster from a thread that lives as long as it (the main thread, as main() does).
    """
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Signal a child's process group, wait, then kill it if it is still there."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether GET ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


def wait_until(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.1,
               alive: Callable[[], bool] | None = None) -> None:
    """Poll ``condition()`` until it is true; ServeError after ``timeout`` s or when ``alive()`` turns false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if alive is not None and not alive():
            raise ServeError(f"{what}: the process exited")
        time.sleep(interval)
    raise ServeError(f"{what}: not within {timeout:g} s")


@dataclass
class Replica:
    """One Streamlit process: its name (HAProxy server and cookie value), port, process and log file."""

    name: str
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def streamlit_command(app: Path, port: int, options: dict[str, str], nodelay: bool = True) -> list[str]:
    """The command line of one replica (``python deploy/replica.py run app --opt value ...``).

    ``nodelay=False`` runs plain ``python -m streamlit`` (Nagle's algorithm left on; for comparison only).
    """
    launcher = [str(REPLICA)] if nodelay else ["-m", "streamlit"]
    cmd = [sys.executable, *launcher, "run", str(app)]
    for key, value in {**options, "server.address": "127.0.0.1", "server.port": str(port)}.items():
        cmd += [f"--{key}", value]
    return cmd


def haproxy_config(replicas: Sequence[Replica], address: str, port: int, socket_path: Path,
                   check_interval_ms: int = 1000) -> str:
    """The HAProxy configuration: sticky cookie, health checks, websockets, gzip, long cache for /static/."""
    servers = "\n".join(
        f"    server {r.name} 127.0.0.1:{r.port} cookie {r.name} check inter {check_interval_ms} fall 2 rise 2"
        for r in replicas)
    static_servers = "\n".join(
        f"    server {r.name} 127.0.0.1:{r.port} track streamlit/{r.name}" for r in replicas)
    return f"""# generated by deploy/serve.py
global
    # about 1 websocket per student (the connection count doubles on the proxy); within a 10k-descriptor limit
    maxconn 4000
    stats socket {socket_path} mode 600 level admin
    log stderr format short local0 notice

defaults
    mode http
    log global
    option dontlognull
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 15s
    timeout http-keep-alive 15s
    # an open websocket (a student's session) may stay quiet for a long time
    timeout tunnel 2h
    timeout client-fin 10s
    timeout check 2s
    retries 2
    option redispatch

frontend bpviz
    bind {address}:{port}
    http-request set-var(txn.path) path
    compression algo gzip
    compression type text/html text/css text/plain text/javascript application/javascript application/json image/svg+xml
    # hashed bundles: safe to keep for a year (Streamlit already says so; this holds behind any other hop too)
    acl static var(txn.path) -m beg /static/
    http-response set-header Cache-Control "public, max-age={STATIC_MAX_AGE}, immutable" if static {{ status 200 }}
    # the bundles are the same on every replica: no stickiness (and so no cookie that would make them uncacheable)
    use_backend static if static
    default_backend streamlit

backend static
    balance roundrobin
    http-response set-header {REPLICA_HEADER} %[srv_name]
{static_servers}

backend streamlit
    # new sessions go to the replica with the fewest open connections (websockets are long-lived)
    balance leastconn
    # stickiness by cookie, never by client address: a whole lecture hall shares one NAT address
    cookie {COOKIE} insert indirect nocache httponly attr "SameSite=Lax"
    option httpchk
    http-check send meth GET uri {HEALTH}
    http-check expect status 200
    http-response set-header {REPLICA_HEADER} %[srv_name]
{servers}
"""


@dataclass
class Cluster:
    """N Streamlit replicas and HAProxy in front; ``start()``/``stop()`` or ``with Cluster(...) as c:``."""

    replicas: int = 2
    port: int = 8501
    address: str = "0.0.0.0"
    app: Path = APP
    ttl: int | None = None  # server.disconnectedSessionTTL (s); None: Streamlit's default (120 s)
    options: dict[str, str] = field(default_factory=dict)  # extra Streamlit options for every replica
    workdir: Path | None = None  # config, logs, stats socket; None: a fresh temporary directory
    restart: bool = True
    nodelay: bool = True  # start replicas through deploy/replica.py (TCP_NODELAY); False only to compare
    warm: bool = True  # run the app once in every replica before the proxy starts
    check_interval_ms: int = 1000
    quiet: bool = False
    members: list[Replica] = field(default_factory=list, init=False)
    proxy: subprocess.Popen | None = field(default=None, init=False)
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.address in ("0.0.0.0", "", "*") else self.address
        return f"http://{host}:{self.port}"

    @property
    def config_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "haproxy.cfg"

    @property
    def socket_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "haproxy.sock"

    def pids(self) -> dict[str, int]:
        """Process ids by name (the replicas' names and ``haproxy``), of the processes running now."""
        out = {r.name: r.proc.pid for r in self.members if r.proc is not None and r.proc.poll() is None}
        if self.proxy is not None and self.proxy.poll() is None:
            out["haproxy"] = self.proxy.pid
        return out

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # one cookie secret for all replicas (signed cookies stay valid whichever replica answers); through the
        # environment, not the command line, so that it does not show in `ps`
        env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
        return env

    def _spawn(self, replica: Replica, env: dict[str, str]) -> None:
        options = {**PRODUCTION_OPTIONS, **self.options}
        if self.ttl is not None:
            options["server.disconnectedSessionTTL"] = str(self.ttl)
        log = open(replica.log_path, "ab")  # noqa: SIM115 (the child keeps it; closed here right after the fork)
        try:
            replica.proc = subprocess.Popen(streamlit_command(self.app, replica.port, options, self.nodelay),
                                            cwd=self.app.parent, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                                            preexec_fn=_die_with_parent)
        finally:
            log.close()

    def start(self) -> Cluster:
        """Start the replicas, wait for their health checks, then start HAProxy and wait until it answers."""
        haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
        if haproxy is None:
            raise ServeError("haproxy is not installed (Debian: apt-get install haproxy)")
        if not self.app.exists():
            raise ServeError(f"no such app: {self.app}")
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="bpviz-serve-")
            self.workdir = Path(self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._env = self._environment()
        try:
            for i in range(self.replicas):
                replica = Replica(f"r{i + 1}", free_port(), self.workdir / f"r{i + 1}.log")
                self.members.append(replica)
                self._spawn(replica, self._env)
            for r in self.members:
                wait_until(lambda r=r: http_ok(r.url + HEALTH), 90, f"replica {r.name} (log: {r.log_path})",
                           alive=lambda r=r: r.proc.poll() is None)
            if self.warm:
                self._warm_up()
            self.config_path.write_text(haproxy_config(self.members, self.address, self.port, self.socket_path,
                                                       self.check_interval_ms))
            check = subprocess.run([haproxy, "-c", "-q", "-f", str(self.config_path)], capture_output=True, text=True)
            if check.returncode != 0:
                raise ServeError(f"haproxy rejected the generated configuration: {check.stdout}{check.stderr}")
            proxy_log = open(self.workdir / "haproxy.log", "ab")  # noqa: SIM115
            try:
                self.proxy = subprocess.Popen([haproxy, "-db", "-f", str(self.config_path)], stdout=proxy_log,
                                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              start_new_session=True, preexec_fn=_die_with_parent)
            finally:
                proxy_log.close()
            wait_until(lambda: http_ok(self.url + HEALTH), 30, f"haproxy on port {self.port} "
                       f"(log: {self.workdir / 'haproxy.log'})", alive=lambda: self.proxy.poll() is None)
        except ServeError as exc:
            tails = self._log_tails()
            self.stop()
            raise ServeError(f"{exc}{tails}") from None
        except BaseException:
            self.stop()
            raise
        return self

    def _warm_up(self) -> None:
        """Run the app once in every replica (in parallel), so the first student does not wait for the imports.

        Streamlit's script health check (``/_stcore/script-health-check``, enabled by PRODUCTION_OPTIONS) runs the
        main script in a throwaway session: bpviz, SymPy and Plotly get imported and the seed's templates built,
        which takes ~0.7 s in a fresh process. A failure here is not fatal (the endpoint is an experimental one).
        """
        threads = [threading.Thread(target=http_ok, args=(r.url + "/_stcore/script-health-check", 90.0))
                   for r in self.members]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _log_tails(self, lines: int = 15) -> str:
        """The last lines of every log, for an error message (the temporary directory goes away with stop())."""
        out = []
        for path in sorted(self.workdir.glob("*.log")) if self.workdir else []:
            text = path.read_text(errors="replace").splitlines()[-lines:]
            if text:
                out.append(f"\n--- {path.name}\n" + "\n".join(text))
        return "".join(out)

    def supervise_once(self) -> None:
        """Start again a replica that exited (same port, so HAProxy's health check brings it back)."""
        if not self.restart or self._stopping.is_set():
            return
        with self._lock:
            for r in self.members:
                if r.proc is not None and r.proc.poll() is not None and r.restarts < MAX_RESTARTS:
                    r.restarts += 1
                    self._say(f"replica {r.name} exited ({r.proc.returncode}); starting it again "
                              f"({r.restarts}/{MAX_RESTARTS})")
                    self._spawn(r, self._env)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop HAProxy first (no new requests), then every replica; nothing is left running."""
        self._stopping.set()
        with self._lock:
            if self.proxy is not None:
                _stop_process(self.proxy, signal.SIGTERM, timeout)
            for r in self.members:
                if r.proc is not None:
                    with contextlib.suppress(ProcessLookupError):
                        if r.proc.poll() is None:
                            os.killpg(r.proc.pid, signal.SIGTERM)
            for r in self.members:
                if r.proc is not None:
                    _stop_process(r.proc, signal.SIGTERM, timeout)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def haproxy_command(self, command: str) -> str:
        """Send one command to HAProxy's stats socket (e.g. ``show stat``) and return the answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(self.socket_path))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def server_states(self) -> dict[str, str]:
        """HAProxy's view of each replica: {"r1": "UP", "r2": "DOWN", ...}."""
        lines = self.haproxy_command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        out = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == "streamlit" and row.get("svname") not in ("FRONTEND", "BACKEND", None):
                out[row["svname"]] = row["status"]
        return out

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="serve", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Example: python deploy/serve.py --replicas 2 --port 8501")
    parser.add_argument("--replicas", type=int, default=os.cpu_count() or 1,
                        help="Streamlit processes (default: one per core, %(default)s here)")
    parser.add_argument("--port", type=int, default=8501, help="the port students open (default %(default)s)")
    parser.add_argument("--address", default="0.0.0.0",
                        help="address the proxy listens on (default %(default)s: every interface, for the room)")
    parser.add_argument("--app", type=Path, default=APP, help="the Streamlit script (default: the repo's app.py)")
    parser.add_argument("--ttl", type=int, default=None,
                        help="seconds a disconnected session is kept for its student to reconnect "
                        "(server.disconnectedSessionTTL; Streamlit's default 120)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="extra Streamlit option for every replica, e.g. server.maxUploadSize=5 (repeatable)")
    parser.add_argument("--workdir", type=Path, help="keep the generated config and the logs here "
                        "(default: a temporary directory, removed on exit)")
    parser.add_argument("--no-restart", dest="restart", action="store_false",
                        help="do not start a replica again when it exits")
    parser.add_argument("--print-config", action="store_true",
                        help="print the HAProxy configuration for these settings and exit")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    try:
        args.options = dict(o.split("=", 1) for o in args.option)
    except ValueError:
        parser.error("--option takes KEY=VALUE")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM; then stop the proxy and every replica. Returns the exit status."""
    args = parse_args(argv)
    if args.print_config:
        fake = [Replica(f"r{i + 1}", 8600 + i, Path(os.devnull)) for i in range(args.replicas)]
        print(haproxy_config(fake, args.address, args.port, Path("/tmp/haproxy.sock")))
        return 0
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    cluster = Cluster(replicas=args.replicas, port=args.port, address=args.address, app=args.app.resolve(),
                      ttl=args.ttl, options=args.options, workdir=args.workdir, restart=args.restart)
    try:
        try:
            cluster.start()
        except ServeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        ports = ", ".join(f"{r.name} :{r.port}" for r in cluster.members)
        print(f"bpviz: {cluster.url} ({args.replicas} replica(s): {ports}; haproxy pid {cluster.proxy.pid}; "
              f"config and logs in {cluster.workdir}). Ctrl-C stops.", flush=True)
        while not stop.wait(1.0):
            if cluster.proxy.poll() is not None:
                print(f"error: haproxy exited ({cluster.proxy.returncode}); stopping", file=sys.stderr)
                return 1
            cluster.supervise_once()
        print("bpviz: stopping ...", flush=True)
        return 0
    finally:
        cluster.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)


if __name__ == "__main__":
    sys.exit(main())
