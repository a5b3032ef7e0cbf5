"""The widget's model choice against the emulator on 127.0.0.1, as its view asks it: a
model the API no longer serves is marked for the session (the view's Model menu reads
`backend.unavailable`), and a clip's last frame becomes the next clip's last frame
("End on this frame"), uploaded and written where the view shows it."""

from __future__ import annotations

import asyncio
from typing import Any

from sora_widget import cost
from sora_widget.client import AsyncSoraClient, PollPolicy, RetryPolicy
from sora_widget.client._sightings import SIGHTINGS
from sora_widget.widget import SoraWidget

FAKE_KEY = "sk-test-FAKE-widget-models-5c1e"
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.2, total_budget=10.0)


def make_client(emu, tmp_path) -> AsyncSoraClient:
    return AsyncSoraClient(
        api_key=FAKE_KEY,
        base_url=emu.base_url,
        output_dir=tmp_path / "out",
        poll=FAST_POLL,
        retry=FAST_RETRY,
        budget=cost.Budget(),
    )


class Sent:
    """What the widget sends its view."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def __call__(self, content: dict[str, Any], buffers: Any = None) -> None:
        self.messages.append(content)

    async def reply(self, request: str, timeout: float = 30.0) -> dict[str, Any]:
        for _ in range(int(timeout * 20)):
            for message in self.messages:
                if message.get("id") == request and message.get("kind") == "reply":
                    return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"no reply to {request}: {self.messages}")


async def test_with_sora_2_retired_the_widget_marks_it_and_another_model_still_works(emulator, tmp_path):
    SIGHTINGS.clear()
    emu = emulator(retired_models=("sora-2",))
    async with make_client(emu, tmp_path) as client:
        widget = SoraWidget(prompt="a lighthouse at dusk", duration=4, client=client)
        assert widget.backend["unavailable"] == []
        refused = await widget.wait_for(widget.start().id)
        assert refused.error is not None and refused.error["type"] == "ModelUnavailable"
        assert widget.backend["unavailable"] == ["sora-2"]  # the Model menu marks it

        widget.model = "veo-3.1-fast"
        made = await widget.wait_for(widget.start().id)
        assert made.status == "COMPLETED" and made.model == "veo-3.1-fast"
        assert widget.backend["unavailable"] == ["sora-2"]
        widget.close()
    SIGHTINGS.clear()


async def test_end_on_this_frame_puts_the_clips_last_frame_in_the_last_frame_field(
    emulator, tmp_path, monkeypatch
):
    emu = emulator()
    async with make_client(emu, tmp_path) as client:
        widget = SoraWidget(prompt="a red kite rising", model="veo-3.1-fast", duration=4, client=client)
        sent = Sent()
        monkeypatch.setattr(widget, "send", sent)
        clip = await widget.wait_for(widget.start().id)
        assert clip.status == "COMPLETED"

        widget._on_message(widget, {"kind": "end_frame", "id": "e1", "job": clip.id}, [])
        reply = await sent.reply("e1")
        assert reply["ok"] is True and "/assets/" in reply["url"]
        assert widget.values["last_frame"] == reply["url"]
        assert widget.values["aspect_ratio"] == "16:9"  # the other values stay
        assert emu.stats()["requests"].get("upload", 0) == 1

        # the next clip ends on it; its record says so
        ending = await widget.wait_for(widget.start(prompt="the kite lands").id)
        assert ending.status == "COMPLETED" and ending.params.last_frame == reply["url"]
        widget.close()
