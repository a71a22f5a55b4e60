"""End-to-end failover: two replicas behind HAProxy (deploy/serve.py), one of them killed during a lecture.

Its students see Streamlit's reconnect, land on the live replica and get their page, step and numbers back from
the URL; a student on the live replica notices nothing; new students avoid the dead replica. Expected numbers come
from bpviz.engine, never from the page.
"""

from __future__ import annotations

import os
import signal

import pytest

from bpviz import engine
from bpviz.config import preset

from ..deploy_util import two_replicas
from .browser import assert_healthy, f4, settle, slider_text, slider_thumb, wait_for
from .test_e2e_lecture import open_url, press_and_wait, shown_numbers, step_box, walk_sequence

pytestmark = [pytest.mark.e2e, pytest.mark.deploy]

COOKIE = "SERVERID"
W5 = "sb_w_1_0_0"


@pytest.fixture
def cluster():
    yield from two_replicas()


def replica_of(page) -> str:
    """The replica HAProxy's cookie ties this tab to."""
    return next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE)


def loss_with_w5(w5: float) -> str:
    s = preset("seed")
    W = [w.copy() for w in s.weights]
    W[1][0, 0] = w5
    return f4(engine.forward(s.with_parameters(W, s.biases)).loss)


def e_total(page) -> str:
    return page.locator('[data-testid="stMain"] [data-testid="stMetric"]', has_text="E total").locator(
        '[data-testid="stMetricValue"]').inner_text().strip()


def move_w5(page, presses: int) -> None:
    """Press ArrowRight on the sidebar's w5 slider, one rerun at a time (as a lecturer at the keyboard)."""
    thumb = slider_thumb(page, W5)
    start = float(slider_text(page, W5))
    for n in range(1, presses + 1):
        thumb.focus()
        page.keyboard.press("ArrowRight")
        wait_for(page, lambda n=n: slider_text(page, W5) == f4(start + 0.01 * n), f"w5 step {n}")
        settle(page)


def test_a_killed_replica_s_students_come_back_on_the_live_one_with_their_step_and_numbers(page_factory, cluster):
    students = []
    for _ in range(4):  # leastconn: two students on each replica
        page = page_factory(1280, 800, server=cluster.url)
        open_url(page, cluster.url + "/backward")
        students.append(page)
    victim = replica_of(students[0])
    orphans = [p for p in students if replica_of(p) == victim]
    bystanders = [p for p in students if replica_of(p) != victim]
    assert len(orphans) == len(bystanders) == 2, [replica_of(p) for p in students]
    survivor = replica_of(bystanders[0])
    before = {}
    for p in orphans:
        move_w5(p, 5)  # w5 0.40 → 0.45
        press_and_wait(p, "PageDown", step_box(p))
        assert e_total(p) == loss_with_w5(0.45)
        before[p] = (step_box(p), shown_numbers(p), p.url)
    calm = {p: (step_box(p), shown_numbers(p)) for p in bystanders}

    dead = next(r for r in cluster.members if r.name == victim)
    os.killpg(dead.proc.pid, signal.SIGKILL)
    dead.proc.wait(10)

    # Streamlit's frontend notices the closed socket and reconnects; HAProxy sends it (cookie naming the dead
    # replica) to the live one. The page stays as it was, and the student's next action is the new session's
    # first run: it must act as on the old replica, from the URL's state (not snap back, not get lost)
    slider_first, pagedown_first = orphans
    for p in orphans:
        wait_for(p, lambda p=p: replica_of(p) == survivor, f"the tab to reconnect to {survivor}", timeout=60)
        assert (step_box(p), shown_numbers(p), p.url) == before[p]
    move_w5(slider_first, 1)
    assert e_total(slider_first) == loss_with_w5(0.46)
    assert step_box(slider_first) == before[slider_first][0]
    after = press_and_wait(pagedown_first, "PageDown", before[pagedown_first][0])
    assert after == step_after(before[pagedown_first][0])
    assert e_total(pagedown_first) == loss_with_w5(0.45)

    # the students on the live replica noticed nothing, and carry on
    for p in bystanders:
        assert replica_of(p) == survivor
        assert (step_box(p), shown_numbers(p)) == calm[p]
        move_w5(p, 1)
        assert e_total(p) == loss_with_w5(0.41)

    newcomer = page_factory(375, 800, server=cluster.url)
    open_url(newcomer, cluster.url + "/backward")
    assert replica_of(newcomer) == survivor
    assert e_total(newcomer) == loss_with_w5(0.40)
    for p in (*bystanders, newcomer):
        assert_healthy(p, cluster.url)


def step_after(box: str) -> str:
    """The step box's text one step on ("2/12 · …" → "3/12 · …"), the title from the library's walkthrough."""
    number, total = (int(x) for x in box.split(" · ")[0].split("/"))
    titles = [title for page, title in walk_sequence(preset("seed")) if page == "backward"]
    return f"{number + 1}/{total} · {titles[number]}"
