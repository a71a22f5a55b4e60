"""A Streamlit protocol client: one browser tab's session over ``/_stcore/stream``, without a browser.

It talks to the server the way Streamlit's frontend does (Streamlit 1.67): GET the page (through a proxy this sets
the sticky ``SERVERID`` cookie), GET ``/_stcore/health`` (sets the ``_streamlit_xsrf`` cookie), open the websocket
with the subprotocols ``streamlit, <xsrf token>[, <session id to resume>]``, and send a ``rerun_script`` BackMsg whose
``ClientState`` carries the page name (first run) or the page script hash (later runs), the query string, the
states of the widgets and the hashes of the big messages it already holds. It reads ForwardMsgs (``new_session``,
deltas, ``script_finished``) until the run has finished and keeps what a test or a benchmark checks: the metrics,
the widgets by their user key (with the id the server assigned, ``$$ID-<hash>-<key>``), the replica that answered
(HAProxy's ``X-Bpviz-Replica`` header, see deploy/serve.py) and the session id.

Blocking sockets (``websocket-client``, ``urllib``): under Locust, gevent's monkey patching makes them cooperative.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

REPLICA_HEADER = "x-bpviz-replica"
XSRF_COOKIE = "_streamlit_xsrf"
FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
            ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
LIVE_STATE = "move"  # the live slider's state (bpviz.ui.live_slider.STATE; the client does not import bpviz)
CACHE_AGE = 2  # like the frontend (global.maxCachedMessageAge): keep big messages seen in the last 2 runs


class ProtocolError(RuntimeError):
    """The server closed, timed out or answered something a browser would not accept."""


@dataclass
class Widget:
    """A widget as the last run drew it: the id the server assigned, its kind and its current value."""

    id: str
    kind: str  # "slider", "checkbox", "bidi_component" (a live slider), ...
    element: Any  # the widget's proto (e.g. streamlit.proto.Slider_pb2.Slider)

    def state(self) -> Any | None:
        """The WidgetState the frontend would send for this widget now (None for kinds not mirrored here)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        e = self.element
        if self.kind == "slider":
            values = list(e.value) if e.set_value else list(e.default)
            ws = WidgetState(id=self.id)
            ws.double_array_value.data.extend(values)  # a slider's state is a list of doubles, one value or two
            return ws
        if self.kind in ("checkbox", "toggle"):
            return WidgetState(id=self.id, bool_value=e.value if e.set_value else e.default)
        if self.kind == "expander":  # an expander with on_change: its open state is a widget value
            return WidgetState(id=self.id, bool_value=e.expanded)
        return None


@dataclass
class Reply:
    """What one script run sent back: timing, volume, and the parts the checks read."""

    elapsed: float = 0.0  # seconds from sending the request to script_finished
    messages: int = 0
    nbytes: int = 0
    status: int | None = None
    metrics: dict[str, str] = field(default_factory=dict)  # label -> shown value, e.g. "E total" -> "0.2984"
    texts: list[str] = field(default_factory=list)  # st.text bodies
    widgets: dict[str, Widget] = field(default_factory=dict)  # user key -> widget
    exceptions: list[str] = field(default_factory=list)  # st.exception / error boxes
    errors: list[str] = field(default_factory=list)  # st.error bodies (the app's error boundary)
    page_script_hash: str = ""


def widget_user_key(widget_id: str) -> str:
    """The user key inside a server-assigned id (``$$ID-<hash>-sb_w_1_0_0`` -> ``sb_w_1_0_0``)."""
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "$$ID" else widget_id


class StreamlitSession:
    """One tab: ``connect()``, then ``set_slider()`` / ``rerun()`` / ``upload_file()``, ``reconnect()``, ``close()``."""

    def __init__(self, base_url: str, page: str = "", timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.page = page.strip("/")  # the URL path of the page, e.g. "backward"; "" is the home page
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self._http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.ws: websocket.WebSocket | None = None
        self.session_id: str = ""
        self.replica: str | None = None  # from the websocket handshake's response headers
        self.http_replica: str | None = None  # from the page's response headers
        self.page_script_hash: str = ""
        self.widgets: dict[str, Widget] = {}
        # what the frontend's widget manager holds: a value the server set, or the user's last one (a widget drawn
        # again without set_value keeps it; its proto then carries only the default)
        self.states: dict[str, Any] = {}
        self.query_string = ""  # the URL's query: set by the app (page_info_changed), sent back with every rerun
        self.last: Reply | None = None
        self._cache: dict[str, int] = {}  # hash of a cacheable message -> run number when last seen
        self._run = 0
        self._nonce = 0  # the live sliders' reports

    # ------------------------------------------------------------ HTTP

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """GET a path with this tab's cookies; (status, headers in lower case, body)."""
        with self._http.open(self.base_url + path, timeout=self.timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def _cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)

    # ------------------------------------------------------------ websocket

    def connect(self) -> Reply:
        """Load the page as a fresh tab does and run it once; the reply of that first run."""
        status, headers, _ = self.get("/" + self.page)
        self.http_replica = headers.get(REPLICA_HEADER)
        self.get("/_stcore/health")
        self.get("/_stcore/host-config")
        self._open_socket(resume=False)
        return self.rerun(first=True)

    def _open_socket(self, resume: bool) -> None:
        url = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/_stcore/stream"
        protocols = ["streamlit", self.cookie(XSRF_COOKIE) or ""]
        if resume and self.session_id:
            protocols.append(self.session_id)
        try:
            self.ws = websocket.create_connection(url, timeout=self.timeout, subprotocols=protocols,
                                                  cookie=self._cookie_header(), enable_multithread=False)
        except (OSError, websocket.WebSocketException) as exc:
            raise ProtocolError(f"websocket: {type(exc).__name__}: {exc}") from exc
        headers = {k.lower(): v for k, v in (self.ws.getheaders() or {}).items()}
        self.replica = headers.get(REPLICA_HEADER)

    def reconnect(self) -> Reply:
        """Open the websocket again (as after a network drop) asking to resume this session, and rerun."""
        self.close()
        self._open_socket(resume=True)
        return self.rerun()

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(OSError, websocket.WebSocketException):
                self.ws.close(timeout=1)
            self.ws = None

    def send(self, msg: BackMsg) -> None:
        if self.ws is None:
            raise ProtocolError("not connected")
        try:
            self.ws.send_binary(msg.SerializeToString())
        except (OSError, websocket.WebSocketException) as exc:
            raise ProtocolError(f"send: {type(exc).__name__}: {exc}") from exc

    def receive(self) -> tuple[ForwardMsg, int]:
        """The next ForwardMsg and its size in bytes (a cached message is resolved to itself)."""
        if self.ws is None:
            raise ProtocolError("not connected")
        try:
            data = self.ws.recv()
        except (OSError, websocket.WebSocketException) as exc:
            raise ProtocolError(f"receive: {type(exc).__name__}: {exc}") from exc
        if not isinstance(data, bytes) or not data:
            raise ProtocolError("the server closed the connection")
        msg = ForwardMsg()
        msg.ParseFromString(data)
        return msg, len(data)

    # ------------------------------------------------------------ script runs

    def widget_states(self, changes: dict[str, Any] | None = None) -> Any:
        """Every mirrored widget's state as the frontend sends it, with ``changes`` (user key -> value) applied."""
        from streamlit.proto.WidgetStates_pb2 import WidgetStates

        states = WidgetStates()
        changes = dict(changes or {})
        for key, w in self.widgets.items():
            if key in changes:
                ws = self.states[key] = self._changed(w, changes.pop(key))
            elif key in self.states:
                ws = type(self.states[key])()
                ws.CopyFrom(self.states[key])
                ws.id = w.id  # the value the user set, under the id the widget has now (it changes with page, range)
            else:
                continue
            states.widgets.append(ws)
        if changes:
            raise ProtocolError(f"no such widget on the page: {sorted(changes)}")
        return states

    def _changed(self, w: Widget, value: Any) -> Any:
        """The state the frontend sends for a widget the user has just set to ``value``."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        ws = WidgetState(id=w.id)
        if w.kind == "slider":
            ws.double_array_value.data.extend(value if isinstance(value, list | tuple) else [float(value)])
        elif w.kind == "bidi_component":  # bpviz's live slider (bpviz/ui/live_slider.js): a report with a new nonce
            self._nonce += 1
            ws.json_value = json.dumps({LIVE_STATE: {"v": float(value), "n": self._nonce}})
        else:
            ws.bool_value = bool(value)
        return ws

    def rerun(self, changes: dict[str, Any] | None = None, *, first: bool = False,
              extra_states: Sequence[Any] = ()) -> Reply:
        """Send a rerun request (widget states with ``changes``) and read until the run has finished."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string  # the address bar, as the app last wrote it
        if first or not self.page_script_hash:
            cs.page_name = self.page
        else:
            cs.page_script_hash = self.page_script_hash
        cs.widget_states.CopyFrom(self.widget_states(changes))
        cs.widget_states.widgets.extend(extra_states)
        cs.cached_message_hashes.extend(self._cache)
        cs.context_info.timezone = "UTC"
        cs.context_info.timezone_offset = 0
        cs.context_info.locale = "en-US"
        cs.context_info.url = f"{self.base_url}/{self.page}"
        t0 = time.perf_counter()
        self.send(msg)
        return self._read_run(t0)

    def _read_run(self, t0: float) -> Reply:
        self._run += 1
        reply = Reply()
        widgets: dict[str, Widget] = {}
        by_hash: dict[str, ForwardMsg] = {}
        while True:
            msg, size = self.receive()
            reply.messages += 1
            reply.nbytes += size
            kind = msg.WhichOneof("type")
            if kind == "ref_hash":  # a big message this tab already has: the frontend takes it from its cache
                self._cache[msg.ref_hash] = self._run
                continue
            if msg.metadata.cacheable and msg.hash:
                self._cache[msg.hash] = self._run
                by_hash[msg.hash] = msg
            if kind == "new_session":
                self.page_script_hash = reply.page_script_hash = msg.new_session.page_script_hash
                if msg.new_session.initialize.session_id:
                    self.session_id = msg.new_session.initialize.session_id
            elif kind == "navigation" and msg.navigation.page_script_hash:
                # with a pages/ directory (or st.navigation) the page is resolved during the run: the frontend takes
                # the current page from this message, not from new_session (which names the main script then)
                self.page_script_hash = reply.page_script_hash = msg.navigation.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._note_element(msg.delta.new_element, reply, widgets)
            elif kind == "delta" and msg.delta.WhichOneof("type") == "add_block":
                block = msg.delta.add_block
                if block.WhichOneof("type") == "expandable" and block.expandable.id.startswith("$$ID-"):
                    widgets[widget_user_key(block.expandable.id)] = Widget(block.expandable.id, "expander",
                                                                           block.expandable)
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "script_finished":
                if msg.script_finished in FINISHED:
                    reply.status = msg.script_finished
                    break
            elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
                reply.exceptions.append(msg.session_event.script_compilation_exception.message)
        reply.elapsed = time.perf_counter() - t0
        reply.widgets = widgets
        self.widgets = widgets
        for key, w in widgets.items():
            ws = w.state()
            if ws is not None and (getattr(w.element, "set_value", False) or key not in self.states):
                self.states[key] = ws
        self._cache = {h: run for h, run in self._cache.items() if self._run - run < CACHE_AGE}
        self.last = reply
        return reply

    @staticmethod
    def _note_element(element, reply: Reply, widgets: dict[str, Widget]) -> None:
        kind = element.WhichOneof("type")
        inner = getattr(element, kind)
        if kind == "metric":
            reply.metrics[inner.label] = inner.body
        elif kind == "text":
            reply.texts.append(inner.body)
        elif kind == "exception":
            reply.exceptions.append(inner.message)
        elif kind == "alert" and inner.format == inner.ERROR:
            reply.errors.append(inner.body)
        widget_id = getattr(inner, "id", "") if kind not in ("plotly_chart", "metric") else ""
        if widget_id.startswith("$$ID-"):
            widgets[widget_user_key(widget_id)] = Widget(widget_id, kind, inner)

    def open_expander(self, key: str) -> Reply:
        """Open the expander with this user key (one whose content is drawn only while open) and wait for the rerun."""
        if key not in self.widgets or self.widgets[key].kind != "expander":
            raise ProtocolError(f"no expander {key!r} that reports its state on the page")
        return self.rerun({key: True})

    def set_slider(self, key: str, value: float) -> Reply:
        """Move the slider with this user key (e.g. ``sb_w_1_0_0``) to ``value`` and wait for the rerun."""
        if key not in self.widgets:
            raise ProtocolError(f"no slider {key!r} on the page (widgets: {sorted(self.widgets)[:8]} ...)")
        return self.rerun({key: value})

    # ------------------------------------------------------------ file upload (as st.file_uploader does it)

    def upload_file(self, key: str, name: str, data: bytes, mime: str = "application/json") -> tuple[int, str | None,
                                                                                                     Reply]:
        """Upload a file into the file uploader with this user key, then rerun with it.

        As the frontend: ask the session for upload URLs (``file_urls_request``), PUT the file there (multipart, with
        the XSRF header), then send the uploader's new state. Returns (HTTP status of the PUT, the replica that took
        the PUT, the reply of the rerun).
        """
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        if key not in self.widgets:
            raise ProtocolError(f"no file uploader {key!r} on the page")
        request_id = uuid.uuid4().hex
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.session_id = self.session_id
        msg.file_urls_request.file_names.append(name)
        self.send(msg)
        while True:
            fm, _ = self.receive()
            if fm.WhichOneof("type") == "file_urls_response" and fm.file_urls_response.response_id == request_id:
                break
        if fm.file_urls_response.error_msg:
            raise ProtocolError(f"file_urls_request: {fm.file_urls_response.error_msg}")
        urls = fm.file_urls_response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: {mime}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(urllib.parse.urljoin(self.base_url + "/", urls.upload_url.lstrip("/")),
                                         data=body, method="PUT",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                                  "X-Xsrftoken": self.cookie(XSRF_COOKIE) or ""})
        try:
            with self._http.open(request, timeout=self.timeout) as r:
                status, replica = r.status, r.headers.get(REPLICA_HEADER)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get(REPLICA_HEADER), Reply()
        state = WidgetState(id=self.widgets[key].id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(data)
        info.file_urls.CopyFrom(urls)
        reply = self.rerun(extra_states=[state])
        return status, replica, reply
