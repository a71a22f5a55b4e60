"""deploy/replica.py's TCP_NODELAY fix, as a reproducer of what it works around.

asyncio turns Nagle's algorithm off on an accepted socket only when the socket says it is TCP by its protocol
number (``sock.proto == IPPROTO_TCP``); a listening socket made as ``socket.socket(AF_INET)`` (protocol 0, as
Streamlit 1.67's server binds it) hands out sockets with protocol 0, so every small websocket frame after the first
waits for the peer's delayed ACK (~40 ms per rerun; ``python benchmarks/load.py --scenario ratio --plain-streamlit``
shows it end to end). Here the mechanism itself, without timing: the option as asyncio leaves it, then with
``enable_nodelay()``.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading

from .deploy_util import ROOT

sys.path.insert(0, str(ROOT / "deploy"))


def _nodelay_of_an_accepted_socket() -> int:
    """TCP_NODELAY of the server side of one connection to an asyncio server listening on a protocol-0 socket."""

    async def main() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Server(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        listener = socket.socket(socket.AF_INET)  # protocol 0, as Streamlit binds it
        listener.bind(("127.0.0.1", 0))
        server = await asyncio.get_running_loop().create_server(Server, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        value = await asyncio.wait_for(seen, 10)
        writer.close()
        server.close()
        return value

    # in a thread of its own: earlier tests in the session (Playwright's sync API) leave a loop running in this one
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(main())))
    worker.start()
    worker.join(30)
    assert result, "the asyncio server did not answer within 30 s"
    return result[0]


def test_asyncio_leaves_nagle_on_for_a_protocol_0_listener_and_enable_nodelay_turns_it_off():
    from asyncio import base_events

    import replica

    from bpviz.ui import nodelay

    before = base_events._set_nodelay  # already replaced if this process imported the app (an AppTest did)
    base_events._set_nodelay = nodelay.ASYNCIO_SET_NODELAY or before  # asyncio's own
    try:
        assert _nodelay_of_an_accepted_socket() == 0  # the defect: Nagle's algorithm stays on
        replica.enable_nodelay()
        assert _nodelay_of_an_accepted_socket() != 0  # the launcher's fix
    finally:
        base_events._set_nodelay = before


def test_the_app_turns_nagle_off_for_streamlit_run_too():
    """`streamlit run app.py` (the README's command) gets the fix when the app is first imported."""
    from asyncio import base_events

    import bpviz.ui.boundary  # noqa: F401  (what app.py imports)
    from bpviz.ui import nodelay

    assert base_events._set_nodelay is nodelay._set_nodelay
