"""Replicas behind HAProxy (deploy/serve.py): sessions from one address spread, and each session sticks.

A lecture hall comes from one NAT address: every session here comes from 127.0.0.1, and still the sessions must
spread over the replicas (by HAProxy's cookie, not by address) while every request of one session (the page, the
websocket, a file upload) reaches the replica that holds the session.
"""

from __future__ import annotations

import json

import pytest

from bpviz import engine, numbers
from bpviz.config import preset

from .deploy_util import two_replicas

pytestmark = pytest.mark.deploy

PAGE = "backward"


@pytest.fixture(scope="module")
def cluster():
    yield from two_replicas()


def test_sessions_from_one_address_spread_and_stick(cluster):
    from stclient import StreamlitSession

    sessions = [StreamlitSession(cluster.url, PAGE) for _ in range(6)]
    try:
        for s in sessions:
            reply = s.connect()
            assert reply.metrics["E total"] == "0.2984"
        replicas = [s.replica for s in sessions]
        assert set(replicas) == {"r1", "r2"}, replicas  # spread, although every session comes from 127.0.0.1
        for s in sessions:
            assert s.http_replica == s.replica  # the page and the websocket: the same replica
            assert s.cookie("SERVERID") == s.replica  # ... because of HAProxy's cookie
            reply = s.set_slider("sb_w_1_0_0", 0.5)
            assert reply.metrics["E total"] == "0.3065"  # the session's state lives on (w5 = 0.5)
    finally:
        for s in sessions:
            s.close()


def _loss_with_w5(w5: float) -> str:
    s = preset("seed")
    W = [w.copy() for w in s.weights]
    W[1][0, 0] = w5
    return numbers.text(engine.forward(s.with_parameters(W, s.biases)).loss, 4)


def test_upload_reaches_the_replica_of_the_session(cluster):
    from stclient import StreamlitSession

    doc = preset("seed").to_dict()
    doc["weights"][1][0][0] = -0.25
    data = json.dumps(doc).encode()
    sessions = [StreamlitSession(cluster.url, PAGE) for _ in range(4)]
    try:
        for s in sessions:
            s.connect()
        assert {s.replica for s in sessions} == {"r1", "r2"}
        for s in sessions:
            s.open_expander("sb_file_box")  # the scenario-file drawer: its uploader is drawn while it is open
            status, upload_replica, reply = s.upload_file("sb_upload", "scenario.json", data)
            assert status == 204
            assert upload_replica == s.replica
            assert reply.metrics["E total"] == _loss_with_w5(-0.25)  # the app loaded the uploaded scenario
    finally:
        for s in sessions:
            s.close()


def test_without_the_cookie_an_upload_would_miss_the_session(cluster):
    """The negative control: the same upload sent to the other replica is refused (why stickiness is needed)."""
    from stclient import StreamlitSession

    s = StreamlitSession(cluster.url, PAGE)
    try:
        s.connect()
        s.open_expander("sb_file_box")
        other = "r1" if s.replica == "r2" else "r2"
        for c in s.cookies:
            if c.name == "SERVERID":
                c.value = other
        status, upload_replica, _ = s.upload_file("sb_upload", "scenario.json", b"{}")
        assert (status, upload_replica) == (400, other)
    finally:
        s.close()


def test_static_assets_are_compressed_and_cached_without_a_cookie(cluster):
    from stclient import StreamlitSession

    s = StreamlitSession(cluster.url, PAGE)
    _, _, html = s.get("/")
    script = html.decode().split('src="./', 1)[1].split('"', 1)[0]  # the hashed main bundle
    import urllib.request

    request = urllib.request.Request(f"{cluster.url}/{script}", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Encoding"] == "gzip"
        assert "max-age=31536000" in r.headers["Cache-Control"] and "immutable" in r.headers["Cache-Control"]
        assert "private" not in r.headers.get_all("Cache-Control")
        assert r.headers.get("Set-Cookie") is None  # the bundles need no stickiness: nothing stops a cache
