"""Run one Streamlit replica (``python deploy/replica.py run app.py --server.port ...``) with TCP_NODELAY set.

Streamlit 1.67's Starlette server binds its listening socket as ``socket.socket(family)`` (protocol number 0), and
asyncio only sets TCP_NODELAY on accepted sockets whose protocol is ``IPPROTO_TCP``: so Nagle's algorithm stays on.
A script run writes many small websocket frames; after the first one, the rest wait for the peer's delayed ACK,
about 40 ms on Linux, on every rerun (measured: a bare app's rerun takes 48 ms instead of 5 ms). This launcher makes
asyncio set TCP_NODELAY on every TCP stream socket, then runs Streamlit's own command line; the app is untouched.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def enable_nodelay() -> None:
    """Make asyncio set TCP_NODELAY on TCP sockets whatever protocol number they were created with."""
    from bpviz.ui import nodelay

    nodelay.enable()


def main(argv: Sequence[str] | None = None) -> None:
    """``streamlit <argv>`` with TCP_NODELAY (argv as for the ``streamlit`` command, e.g. ``run app.py ...``)."""
    enable_nodelay()
    from streamlit.web import cli

    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
