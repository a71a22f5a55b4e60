"""deploy/serve.py as a command: it stops cleanly, and a dead replica is avoided and replaced by a live one.

Every wait here waits for a condition (a line printed, a process gone, HAProxy's view of a server), never a fixed
time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from .deploy_util import ROOT, children, pid_alive, require_haproxy, wait_for

pytestmark = pytest.mark.deploy

BARE = ROOT / "benchmarks" / "bare_app.py"  # starts faster than app.py; serving works the same


def _start_serve(*args: str) -> tuple[subprocess.Popen, list[str]]:
    """Start ``python deploy/serve.py`` and wait for its "Ctrl-C stops" line; (process, lines printed so far)."""
    from serve import free_port

    proc = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "serve.py"), "--port", str(free_port()),
                             "--address", "127.0.0.1", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=ROOT)
    lines: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    wait_for(lambda: any("Ctrl-C stops" in line for line in lines) or proc.poll() is not None, 60,
             "serve.py to report that it is ready")
    assert proc.poll() is None, "".join(lines)
    return proc, lines


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_stops_cleanly(sig):
    require_haproxy()
    proc, lines = _start_serve("--replicas", "2", "--app", str(BARE))
    try:
        kids = children(proc.pid)
        assert len(kids) == 3, (kids, "".join(lines))  # two replicas and haproxy
        url = next(line for line in lines if "Ctrl-C stops" in line).split()[1]
        import urllib.request

        with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as r:
            assert r.status == 200
        workdir = next(line for line in lines if "Ctrl-C stops" in line).split("logs in ")[1].split(")")[0]
        proc.send_signal(sig)
        assert proc.wait(30) == 0, "".join(lines)
        wait_for(lambda: not any(pid_alive(k) for k in kids), 10, "every child of serve.py to be gone")
        assert not os.path.exists(workdir)  # the generated config and logs went with it
    finally:
        if proc.poll() is None:
            proc.kill()


def test_children_go_when_serve_is_killed():
    """Even SIGKILL (no chance to clean up): the replicas and haproxy get SIGTERM from the kernel and exit."""
    require_haproxy()
    proc, lines = _start_serve("--replicas", "1", "--app", str(BARE))
    kids = children(proc.pid)
    assert len(kids) == 2, "".join(lines)
    proc.kill()
    proc.wait(10)
    wait_for(lambda: not any(pid_alive(k) for k in kids), 15, "the orphaned replica and haproxy to exit")


def test_failover_to_a_live_replica():
    require_haproxy()
    from serve import Cluster, free_port
    from stclient import ProtocolError, StreamlitSession

    with Cluster(replicas=2, port=free_port(), address="127.0.0.1", app=BARE, restart=False, quiet=True) as c:
        sessions = [StreamlitSession(c.url) for _ in range(4)]
        for s in sessions:
            s.connect()
        assert {s.replica for s in sessions} == {"r1", "r2"}
        orphan = sessions[0]
        assert orphan.set_slider("sb_w_1_0_0", 0.3).texts == ["w5 = 0.3000"]
        victim = orphan.replica
        survivor = "r2" if victim == "r1" else "r1"
        dead = next(r for r in c.members if r.name == victim)
        os.killpg(dead.proc.pid, signal.SIGKILL)
        dead.proc.wait(10)
        wait_for(lambda: c.server_states().get(victim, "").startswith("DOWN"), 15,
                 f"haproxy's health check to mark {victim} down")
        # new sessions avoid the dead replica
        fresh = [StreamlitSession(c.url) for _ in range(4)]
        for s in fresh:
            reply = s.connect()
            assert s.replica == survivor
            assert reply.texts == ["w5 = 0.4000"]
            s.close()
        # a student whose replica died: the socket is gone; reconnecting (cookie still naming the dead replica)
        # lands on the live one, in a new session there; the rerun carries the widget values the tab holds (as
        # Streamlit's frontend sends them), so the slider is where the student left it
        with pytest.raises(ProtocolError):
            orphan.set_slider("sb_w_1_0_0", 0.2)
        reply = orphan.reconnect()
        assert orphan.replica == survivor
        assert reply.texts == ["w5 = 0.2000"]
        assert orphan.set_slider("sb_w_1_0_0", 0.1).texts == ["w5 = 0.1000"]
        for s in sessions:
            s.close()
