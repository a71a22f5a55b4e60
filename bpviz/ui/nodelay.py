"""TCP_NODELAY for every connection Streamlit accepts (a workaround for Streamlit 1.67, applied by the app itself).

Streamlit 1.67 binds its listening socket as ``socket.socket(family)`` (protocol number 0), and asyncio only sets
TCP_NODELAY on accepted sockets whose protocol is ``IPPROTO_TCP``: so Nagle's algorithm stays on. A script run
writes many small websocket frames; after the first one, the rest wait for the peer's delayed ACK, about 40 ms on
Linux, on every rerun (tests/test_deploy_nodelay.py reproduces the mechanism). :func:`enable` makes asyncio set
TCP_NODELAY on every TCP stream socket it accepts from then on.

``deploy/replica.py`` calls it before Streamlit starts (every connection is covered); the app calls it when its
entry script is first imported, so that ``streamlit run app.py`` is covered too, from the connection after the
first one.
"""

from __future__ import annotations

import socket


def _set_nodelay(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


ASYNCIO_SET_NODELAY = None  # asyncio's own function, kept when enable() replaces it (the reproducer test uses it)


def enable() -> None:
    """Make asyncio set TCP_NODELAY on TCP sockets whatever protocol number they were created with."""
    global ASYNCIO_SET_NODELAY
    from asyncio import base_events

    if base_events._set_nodelay is not _set_nodelay:
        ASYNCIO_SET_NODELAY = base_events._set_nodelay
    base_events._set_nodelay = _set_nodelay  # selector_events calls base_events._set_nodelay(sock) per connection
