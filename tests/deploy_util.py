"""Helpers of the deployment tests: haproxy present (or skip/fail), the serve script, the protocol client, waiting.

The tests need Debian's haproxy (``apt-get install haproxy``; .ci/run installs it). Without it they are skipped with
that reason, unless BPVIZ_REQUIRE_E2E=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT / "deploy", ROOT / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

T = TypeVar("T")


def haproxy_missing() -> str | None:
    if shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists():
        return None
    return "Debian's haproxy is not installed (apt-get install haproxy)"


def require_haproxy() -> None:
    """Skip the calling test without haproxy; fail instead when BPVIZ_REQUIRE_E2E=1."""
    reason = haproxy_missing()
    if reason is None:
        return
    if os.environ.get("BPVIZ_REQUIRE_E2E") == "1":
        pytest.fail(f"deployment tests are mandatory here (BPVIZ_REQUIRE_E2E=1) but cannot run: {reason}")
    pytest.skip(reason)


def wait_for(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll until ``condition()`` returns something true and return it; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for: {what}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    """The direct children of a process (Linux /proc)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def two_replicas() -> Iterator:
    """The real app on two replicas behind HAProxy (no restarts): a generator for a pytest fixture."""
    require_haproxy()
    from serve import Cluster, free_port

    c = Cluster(replicas=2, port=free_port(), address="127.0.0.1", restart=False, quiet=True)
    c.start()
    try:
        yield c
    finally:
        c.stop()
