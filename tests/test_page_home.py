"""AppTest: the home page."""

from bpviz import export
from bpviz.ui.sidebar import FILE_DRAWER, HANDOUT_DRAWER, SHARE_DRAWER, TORCH_DOWNLOAD

from .apptest_util import assert_clean, figures, live, open_page, texts


def test_home_explains_and_shows_seed():
    at = open_page()
    assert_clean(at)
    text = texts(at)
    assert "Backpropagation" in text and "chain rule" in text
    assert "0.7514" in text and "0.2984" in text
    assert len(figures(at)) == 1


def test_worked_solution_is_rendered_only_on_request():
    at = open_page()
    assert at.session_state["bpviz_app"].handout is None  # no handout work on ordinary reruns
    assert "sb_handout_prepare" not in [b.key for b in at.button]  # its drawer starts closed: not drawn
    at.session_state[HANDOUT_DRAWER] = True  # its drawer opened
    at.run()
    at.button(key="sb_handout_prepare").click().run()
    assert_clean(at)
    docs = at.session_state["bpviz_app"].handout.documents
    for number in ("0.3775", "0.2984", "0.0822", "0.3589"):
        assert number in docs["markdown"] and number in docs["latex"]
    live(at, "sb_w_1_0_0").set_value(0.6).run()  # a new state: the old handout is no longer offered
    key = at.session_state["bpviz_app"].handout.rendered_for
    assert key[0] != at.session_state["bpviz_app"].scenario.to_json(indent=None)


def test_the_sidebar_drawers_draw_their_content_only_when_open():
    """Closed (as they start), the share, scenario-file and handout drawers cost nothing on a slider move."""
    at = open_page()
    assert not at.code and not at.get("file_uploader") and not at.get("download_button")
    for drawer in (SHARE_DRAWER, FILE_DRAWER, HANDOUT_DRAWER):
        at.session_state[drawer] = True
    at.run()
    assert_clean(at)
    assert len(at.code) == 1 and len(at.get("file_uploader")) == 1
    assert sorted(b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")) == ["sb_download", TORCH_DOWNLOAD]
    assert "sb_handout_prepare" in [b.key for b in at.button]


def test_the_pytorch_script_is_offered_beside_the_handout(monkeypatch):
    """The handout drawer's "PyTorch script" button downloads export.torch_script of the scenario shown, in the
    page's language, made when it is clicked (a deferred download: nothing is built on a rerun)."""
    from streamlit.testing.v1 import app_test

    managers = []

    class Recording(app_test.MediaFileManager):
        def __init__(self, storage):
            super().__init__(storage)
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    at = open_page()
    at.session_state["bpviz_app"].lang = "zh"
    at.run()
    at.session_state[HANDOUT_DRAWER] = True  # opened in Chinese (a new language is a new label: a closed drawer)
    at.run()
    assert_clean(at)
    button = next(b for b in at.get("download_button") if b.proto.id.endswith(TORCH_DOWNLOAD))
    assert button.proto.label == "PyTorch 脚本" and button.proto.deferred_file_id
    url = managers[-1].execute_deferred(button.proto.deferred_file_id)  # what a click asks the server for
    script = managers[-1]._storage.get_file(url.rsplit("/", 1)[-1]).content.decode()
    scenario = at.session_state["bpviz_app"].scenario
    assert script == export.torch_script(scenario, "zh")
    compile(script, "bpviz_seed.py", "exec")
    assert "self.linear2.weight.data" in script and "反向传播" in script
    entry = managers[-1]._deferred_callables[button.proto.deferred_file_id]
    assert entry["filename"] == "bpviz_seed.py" and entry["mimetype"] == "text/x-python"
