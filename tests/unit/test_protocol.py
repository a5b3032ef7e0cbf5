"""The kernel↔view protocol is defined once: what Python sends has exactly the keys of
protocol.py's TypedDicts, the view's TypeScript types are generated from them, and the
request router answers every request — tested here without a browser."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import typing
from pathlib import Path
from typing import Any

import pytest

from sora_widget import params, protocol
from sora_widget.batch.tally import BatchTally
from sora_widget.batch.view import BatchView
from sora_widget.client import AsyncSoraClient
from sora_widget.records import Generation
from sora_widget.storyboard import Storyboard
from sora_widget.widget import SoraWidget

ROOT = Path(__file__).resolve().parents[2]


def keys(kind: type) -> set[str]:
    return set(typing.get_type_hints(kind))


def test_the_typescript_types_are_generated_from_the_python_ones():
    spec = importlib.util.spec_from_file_location("protocol_ts", ROOT / "tools" / "protocol_ts.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    on_disk = (ROOT / "js" / "src" / "protocol.generated.ts").read_text(encoding="utf-8")
    assert on_disk == generator.generate(), "js/src/protocol.generated.ts is stale: run `make protocol`"
    lab = (ROOT / "js" / "lab" / "src" / "statuses.generated.ts").read_text(encoding="utf-8")
    assert lab == generator.generate_lab(), "js/lab/src/statuses.generated.ts is stale: run `make protocol`"
    ended = '["COMPLETED", "FAILED", "EXPIRED", "NOT_SUBMITTED"]'
    assert f"TERMINAL_STATUSES: readonly Status[] = {ended};" in on_disk and ended in lab
    # and the generator really follows the Python side: a renamed key changes its output
    assert "  elapsed_s: number;" in on_disk and '"elapsed_s"' in on_disk


def test_the_views_tests_run_on_the_catalogues_options():
    """js/test/fixtures/options.json is `params.view_options()` as the kernel sends it: the
    view's table-driven test (every model's allowed values reach its controls) runs on it."""
    spec = importlib.util.spec_from_file_location(
        "view_options_json", ROOT / "tools" / "view_options_json.py"
    )
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    on_disk = (ROOT / "js" / "test" / "fixtures" / "options.json").read_text(encoding="utf-8")
    assert on_disk == tool.generate(), "js/test/fixtures/options.json is stale: run `make protocol`"
    assert json.loads(on_disk)["models"][0]["name"] == params.DEFAULT_MODEL


def test_a_job_view_has_exactly_the_protocol_keys():
    record = Generation(id="g1", params=params.GenerationParams("a fox"))
    view = protocol.job_view(record, now=0.0, expected_s=180.0)
    assert set(view) == keys(protocol.JobView)
    assert set(view["params"]) == protocol.JobParams.__required_keys__
    # a model that says more fills the optional keys, and no key beyond them
    veo = params.validate("a fox", model="veo-3.1-fast", seed=3, last_frame="https://e.com/end.png")
    more = protocol.job_view(Generation(id="g2", params=veo, model=veo.model), now=0.0, expected_s=1.0)
    assert protocol.JobParams.__required_keys__ < set(more["params"]) <= keys(protocol.JobParams)


def test_batch_queued_items_show_as_pending():
    record = Generation(id="g1", params=params.GenerationParams("a fox"))
    assert protocol.job_view(record, now=0.0, expected_s=1.0, queued_in_batch=True)["status"] == "PENDING"
    assert protocol.job_view(record, now=0.0, expected_s=1.0)["status"] == "SUBMITTING"


def test_options_backend_and_batch_progress_have_the_protocol_keys():
    options = params.view_options()
    assert set(options) == keys(protocol.Options)
    assert all(set(size) == keys(protocol.SizeOption) for size in options["sizes"])
    for model in options["models"]:
        assert set(model) == keys(protocol.ModelOption)
        assert set(model["price"]) == keys(protocol.PriceRule)
        assert all(set(f) == keys(protocol.FieldOption) for f in model["fields"])
        assert all(set(c) == keys(protocol.ChoiceOption) for f in model["fields"] for c in f["choices"])
        assert all(set(p) == keys(protocol.PixelsOption) for p in model["pixels"])
    assert {"id", *BatchTally(total=0).to_dict()} == keys(protocol.BatchProgress)


def test_every_synced_trait_is_in_the_protocol():
    widget_traits = set(SoraWidget.class_trait_names(sync=True))
    batch_traits = set(BatchView.class_trait_names(sync=True))
    board_traits = set(Storyboard.class_trait_names(sync=True))
    ours = keys(protocol.Traits)
    # anywidget's own (_esm, _css, layout, …) start with "_" or belong to ipywidgets
    mine = {name for name in widget_traits | batch_traits | board_traits if not name.startswith("_")} - {
        "layout",
        "tabbable",
        "tooltip",
        "comm",
        "keys",
    }
    assert mine == ours


def test_request_kinds_are_those_the_widgets_answer():
    kinds = {typing.get_args(typing.get_type_hints(r)["kind"])[0] for r in protocol.REQUESTS}
    assert set(SoraWidget._handlers) | set(Storyboard._handlers) == kinds
    assert set(SoraWidget._handlers) == kinds - {"run_storyboard"}
    assert set(Storyboard._handlers) == {"video", "run_storyboard"}
    assert set(BatchView._handlers) == {"video"}


def test_a_job_view_names_its_lineage_with_the_parents_prompt_when_known():
    record = Generation(
        id="g2", params=params.GenerationParams("the kite dives"), derived_from={"id": "g1", "how": "extend"}
    )
    view = protocol.job_view(record, now=0.0, expected_s=1.0, parent_prompt="a red kite rising")
    assert view["derived_from"] == {"id": "g1", "how": "extend", "prompt": "a red kite rising"}
    assert view["kind"] == "clip"
    plain = Generation(id="g3", params=params.GenerationParams("a fox"))
    assert protocol.job_view(plain, now=0.0, expected_s=1.0)["derived_from"] is None
    film = Generation(id="f1", params=params.GenerationParams("Film of 2 shots"), kind="film")
    assert protocol.job_view(film, now=0.0, expected_s=1.0)["kind"] == "film"


def test_board_progress_has_the_protocol_keys():
    assert set(protocol.board_progress()) == keys(protocol.BoardProgress)


# -- the router, without a browser ------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, content: dict[str, Any], buffers: Any = None) -> None:
        self.sent.append(content)


@pytest.fixture
async def widget(tmp_path, monkeypatch):
    async with AsyncSoraClient(api_key="k", base_url="http://127.0.0.1:9", output_dir=tmp_path) as client:
        w = SoraWidget(prompt="a fox", duration=4, client=client)
        recorder = Recorder()
        monkeypatch.setattr(w, "send", recorder)
        w.recorder = recorder  # type: ignore[attr-defined]
        yield w
        w.close()


def ask(widget: SoraWidget, content: dict[str, Any], buffers: list[bytes] | None = None) -> dict[str, Any]:
    widget._on_message(widget, content, buffers or [])
    return widget.recorder.sent[-1]  # type: ignore[attr-defined]


async def test_an_unknown_kind_is_answered_with_an_error_naming_the_known_ones(widget):
    reply = ask(widget, {"kind": "dance", "id": "r1"})
    assert reply["kind"] == "reply" and reply["id"] == "r1" and reply["ok"] is False
    assert reply["error"]["type"] == "InvalidParams"
    assert "generate" in reply["error"]["message"] and "video" in reply["error"]["message"]
    assert set(reply) == keys(protocol.ReplyError)


async def test_generate_with_bad_params_is_refused_before_any_request(widget):
    reply = ask(widget, {"kind": "generate", "id": "r2", "params": {"prompt": "x", "duration": 5}})
    assert reply["ok"] is False and reply["error"]["type"] == "InvalidParams"
    assert widget.client.requester.sent == {}
    assert widget.generations == []


async def test_stop_is_answered_and_resume_of_an_unknown_job_is_an_error(widget):
    stopped = ask(widget, {"kind": "stop", "id": "r3", "job": "nope"})
    assert stopped == {"kind": "reply", "id": "r3", "ok": True}
    reply = ask(widget, {"kind": "resume", "id": "r4", "job": "nope"})
    assert reply["ok"] is False and reply["error"]["type"] == "InvalidParams"


async def test_a_video_request_for_an_unknown_job_is_answered_later_with_an_error(widget):
    widget._on_message(widget, {"kind": "video", "id": "r5", "job": "nope"}, [])
    for _ in range(50):
        if widget.recorder.sent:
            break
        await asyncio.sleep(0.01)
    reply = widget.recorder.sent[-1]
    assert reply["id"] == "r5" and reply["ok"] is False


async def test_a_bug_in_a_handler_still_reaches_the_view(widget, monkeypatch):
    def broken(self, request, content, buffers):
        raise KeyError("oops")

    monkeypatch.setitem(type(widget)._handlers, "stop", broken)
    reply = ask(widget, {"kind": "stop", "id": "r6", "job": "x"})
    assert reply["ok"] is False and "bug in sora-widget" in reply["error"]["hint"]


async def test_continue_and_remix_of_an_unknown_job_are_refused_before_any_request(widget):
    reply = ask(widget, {"kind": "continue", "id": "r7", "job": "nope", "prompt": "next"})
    assert reply["ok"] is False and reply["error"]["type"] == "InvalidParams"
    reply = ask(
        widget,
        {
            "kind": "generate",
            "id": "r8",
            "params": {"prompt": "x", "duration": 4, "size": "720x1280", "input_reference": None},
            "model": "sora-2",
            "remix_of": "nope",
        },
    )
    assert reply["ok"] is False and "remix_of" in reply["error"]["message"]
    assert widget.client.requester.sent == {} and widget.generations == []


async def test_a_storyboard_run_without_prompts_is_refused(tmp_path, monkeypatch):
    async with AsyncSoraClient(api_key="k", base_url="http://127.0.0.1:9", output_dir=tmp_path) as client:
        board = Storyboard(shots=["a kite", "   "], client=client)
        recorder = Recorder()
        monkeypatch.setattr(board, "send", recorder)
        board._on_message(board, {"kind": "run_storyboard", "id": "r9", "shots": ["a kite", " "]}, [])
        reply = recorder.sent[-1]
        assert reply["ok"] is False and "shots[1]" in reply["error"]["message"]
        board._on_message(board, {"kind": "run_storyboard", "id": "r10", "shots": []}, [])
        assert recorder.sent[-1]["ok"] is False
        assert board.board["running"] is False and client.requester.sent == {}
        board.close()


async def test_an_upload_names_an_image_field_the_model_has(widget):
    reply = ask(
        widget,
        {"kind": "upload", "id": "u1", "name": "a.png", "mime": "image/png", "field": "last_frame"},
        [b"x"],
    )
    assert reply["ok"] is False and reply["error"]["type"] == "InvalidParams"
    assert "an image field of sora-2: first_frame" in reply["error"]["message"]
    reply = ask(
        widget,
        {"kind": "upload", "id": "u2", "name": "a.png", "mime": "image/png", "field": "prompt"},
        [b"x"],
    )
    assert reply["ok"] is False and widget.client.requester.sent == {}


async def test_end_on_this_frame_is_refused_for_an_unknown_job_and_a_model_without_a_last_frame(widget):
    reply = ask(widget, {"kind": "end_frame", "id": "e1", "job": "nope"})
    assert reply["ok"] is False and "a completed job of this widget" in reply["error"]["message"]
    widget._records["done"] = Generation(
        id="done", params=params.GenerationParams("a fox"), status="COMPLETED", video_path="x.mp4"
    )
    reply = ask(widget, {"kind": "end_frame", "id": "e2", "job": "done"})
    assert reply["ok"] is False and reply["error"]["message"] == "sora-2 takes no last frame"
    assert "veo-3.1-fast" in reply["error"]["hint"]
    assert widget.client.requester.sent == {} and widget.values == {}


async def test_generate_takes_the_models_own_options_under_options(widget):
    reply = ask(
        widget,
        {
            "kind": "generate",
            "id": "g1",
            "model": "hailuo-02-fast",
            "remix_of": None,
            "params": {
                "prompt": "x",
                "duration": 6,
                "size": None,
                "input_reference": None,
                "options": "fast",
            },
        },
    )
    assert reply["ok"] is False and reply["error"]["message"].startswith("options='fast' is not allowed")
    reply = ask(
        widget,
        {
            "kind": "generate",
            "id": "g2",
            "model": "hailuo-02-fast",
            "remix_of": None,
            "params": {
                "prompt": "x",
                "duration": 6,
                "size": None,
                "input_reference": None,
                "options": {"fast": True},
            },
        },
    )
    # the option reached validation by its own name, as sw.generate takes it
    assert reply["ok"] is False and reply["error"]["message"] == "hailuo-02-fast has no option 'fast'"
    assert widget.client.requester.sent == {} and widget.generations == []


def test_a_saved_widgets_plain_text_says_only_what_stays_true(monkeypatch):
    """A notebook keeps the widget's text/plain as it was when the widget was shown: it
    said `generations=0` after three clips. The text a notebook keeps names no state that
    changes; `repr()` in code still says what the widget is now."""
    shown: list[dict[str, Any]] = []

    def display(data: Any, **kwargs: Any) -> None:
        shown.append(data)

    monkeypatch.setattr("IPython.display.display", display)
    first = SoraWidget(prompt="a fox", duration=4)
    first._ipython_display_()
    other = SoraWidget(prompt="a heron", duration=12, size="landscape", model="sora-2-pro")
    other._records["g"] = Generation(id="g", params=params.GenerationParams("a heron"), status="COMPLETED")
    other._ipython_display_()
    texts = [bundle["text/plain"] for bundle in shown if "application/vnd.jupyter.widget-view+json" in bundle]
    assert texts == [SoraWidget.PLAIN_TEXT, SoraWidget.PLAIN_TEXT]
    assert "recorded in the output below" in SoraWidget.PLAIN_TEXT
    assert "generations=1" in repr(other) and "generations=0" in repr(first)
    # a storyboard's text neither: it said generations=0 above the film it made
    board = Storyboard(shots=["a kite"], duration=4)
    board._ipython_display_()
    saved = [b["text/plain"] for b in shown if "application/vnd.jupyter.widget-view+json" in b][-1]
    assert saved == Storyboard.PLAIN_TEXT and "generations" not in saved
    first.close()
    other.close()
    board.close()
