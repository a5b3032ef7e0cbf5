"""Shots against the emulator on 127.0.0.1: extend from the exact last frame, remix,
stitch into a film with a record of its own, replay of an extended shot, and lineage
in `sora-widget records`."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import warnings
from pathlib import Path

import av
import httpx
import jsonschema
import numpy as np
import pytest
from PIL import Image

import sora_widget as sw
from sora_widget import api, cli, video
from sora_widget.ledger import Ledger
from sora_widget.notebook import read_records, verify, verify_records
from sora_widget.records import SCHEMA_FILE, record_bundle, reproduce_code

VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


@pytest.fixture
def server(emulator, tmp_path, monkeypatch):
    handle = emulator(latency=0.2)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMIND_API_KEY", "test-key")
    monkeypatch.setenv("SEGMIND_BASE_URL", handle.base_url)
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(api, "_defaults", {})
    return handle


@pytest.fixture
def kite(server):
    return sw.generate("a red kite rising over the dunes", duration=4, size="landscape")


def frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def uploads(server) -> int:
    return server.stats()["requests"].get("upload", 0)


def reference_box(width: int, height: int, image: Image.Image) -> tuple[int, int, int, int]:
    """Where the emulator draws a reference image in its frames (emulator/scene.py):
    fitted into half the width and 30 % of the height, in a white frame, centred, 17 %
    of the short side from the top. (left, top, width, height) of the picture itself."""
    short = min(width, height)
    border = max(2, short // 120)
    scale = min(int(width * 0.5) / image.width, int(height * 0.3) / image.height)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    left = (width - (w + 2 * border)) // 2 + border
    return left, int(short * 0.17) + border, w, h


def difference(frame: np.ndarray, image: Image.Image) -> float:
    """Mean absolute difference (0–255) between where `frame` shows a reference and
    `image` fitted the same way."""
    left, top, w, h = reference_box(frame.shape[1], frame.shape[0], image)
    expected = np.asarray(image.convert("RGB").resize((w, h), Image.Resampling.LANCZOS), dtype=np.int16)
    shown = frame[top : top + h, left : left + w].astype(np.int16)
    return float(np.abs(shown - expected).mean())


# -- extend ------------------------------------------------------------------------------------


def test_extend_sends_the_parents_exact_last_frame_and_the_next_shot_starts_from_it(server, kite):
    shot = sw.extend(kite, "the kite dives toward the sea")

    assert shot.status == "COMPLETED"
    assert shot.derived_from == {"id": kite.id, "how": "extend"}
    assert shot.reference_source == f"last frame of {kite.id}"  # never a local path
    assert (shot.params.size, shot.params.duration, shot.model) == ("1280x720", 4, kite.model)
    assert shot.params.input_reference.startswith(server.base_url + "/assets/")  # uploaded

    # what was uploaded is, pixel for pixel, the parent's last decoded frame (not its neighbour)
    uploaded = Image.open(io.BytesIO(httpx.get(shot.params.input_reference).content))
    assert uploaded.format == "PNG"
    pixels = np.asarray(uploaded.convert("RGB"))
    parent = frames(kite.video_path)
    assert np.array_equal(pixels, parent[-1])
    assert not np.array_equal(pixels, parent[-2])

    # the emulator draws its reference into the new clip: the first frame shows that frame
    first = frames(shot.video_path)[0]
    shown = difference(first, uploaded)
    other = difference(first, Image.fromarray(parent[0]))  # the parent's first frame instead
    assert shown < 8, shown
    assert other > 2 * shown + 4, (shown, other)

    # lineage reaches the ledger and validates against the schema
    logged = Ledger.in_dir(Path("sora-outputs")).get(shot.id)
    assert logged is not None and logged.derived_from == shot.derived_from
    VALIDATOR.validate(json.loads(json.dumps(shot.to_dict())))


def test_extend_asked_again_takes_the_shot_it_made_sending_nothing(server, kite, capsys):
    shot = sw.extend(kite, "the kite dives toward the sea")
    before = (uploads(server), server.stats()["submits"])
    capsys.readouterr()

    again = sw.extend(kite, "the kite dives toward the sea")  # a re-run notebook
    assert again.id == shot.id and again.sha256 == shot.sha256
    assert (uploads(server), server.stats()["submits"]) == before  # not even the frame
    assert f"Reused clip {shot.id}" in capsys.readouterr().out

    other = sw.extend(kite, "the kite dives toward the sea", reuse=False)
    assert other.id != shot.id
    assert other.identity == shot.identity  # the same request, made again on purpose
    assert (uploads(server), server.stats()["submits"]) == (before[0] + 1, before[1] + 1)
    # a different prompt is a different shot
    assert sw.extend(kite, "the kite climbs again").id not in (shot.id, other.id)


def test_extend_by_id_keeps_what_was_given_and_follows_a_chain(server, kite):
    second = sw.extend(kite.id, "the kite dives", duration=8)  # by id, from the ledger
    third = sw.extend(second.request_id, "the kite skims the waves")  # by request id
    assert second.params.duration == 8 and third.params.duration == 8  # the parent's, unless given
    assert third.derived_from == {"id": second.id, "how": "extend"}
    assert third.reference_source == f"last frame of {second.id}"


def test_extend_refuses_a_parent_whose_file_is_missing_or_changed_before_anything_is_sent(server, kite):
    before = (uploads(server), server.stats()["submits"])
    clip = Path(kite.video_path)
    data = bytearray(clip.read_bytes())
    data[len(data) // 2] ^= 0xFF
    clip.write_bytes(bytes(data))
    with pytest.raises(sw.InvalidParams, match=f"{kite.id}.*has changed"):
        sw.extend(kite, "the kite dives")
    clip.unlink()
    with pytest.raises(sw.InvalidParams, match=f"{kite.id}.*is missing"):
        sw.extend(kite, "the kite dives")
    with pytest.raises(sw.InvalidParams, match="duration"):
        sw.extend(kite, "the kite dives", duration=5)
    assert (uploads(server), server.stats()["submits"]) == before


# -- remix -------------------------------------------------------------------------------------


def test_remix_changes_only_what_was_asked_and_is_always_a_new_take(server, kite):
    longer = sw.remix(kite, duration=8)
    assert longer.params.duration == 8
    assert (longer.params.prompt, longer.params.size, longer.params.input_reference) == (
        kite.params.prompt,
        kite.params.size,
        kite.params.input_reference,
    )
    assert longer.model == kite.model
    assert longer.derived_from == {"id": kite.id, "how": "remix"}

    again = sw.remix(kite)  # nothing changed: still a new clip, not the one already made
    assert again.params == kite.params and again.model == kite.model
    assert again.request_id not in (kite.request_id, longer.request_id)
    assert again.id != kite.id and again.sha256 and again.video_path != kite.video_path

    reworded = sw.remix(kite, "a blue kite rising over the dunes", model="sora-2-pro")
    assert reworded.params.prompt == "a blue kite rising over the dunes"
    assert (reworded.params.duration, reworded.params.size) == (4, "1280x720")
    assert reworded.model == "sora-2-pro"


# -- stitch ------------------------------------------------------------------------------------


def test_stitch_of_two_4s_clips_plays_8s_with_the_frames_in_order(server, kite):
    shot = sw.extend(kite, "the kite dives toward the sea")
    film = sw.stitch([kite, shot], "film.mp4")

    assert isinstance(film, Path) and film == Path("film.mp4") and film.is_file()
    with av.open(str(film)) as container:
        stream = container.streams.video[0]
        assert abs(float(stream.duration * stream.time_base) - 8.0) <= 0.1
    joined, first, second = frames(film), frames(kite.video_path), frames(shot.video_path)
    assert len(joined) == len(first) + len(second) == 8 * kite.video["fps"]  # 8 s of the emulator's rate
    # stream copy: every frame is decoded exactly as in its clip, in order
    assert all(np.array_equal(a, b) for a, b in zip(joined, first + second, strict=True))

    record = film.record
    assert record.kind == "film" and record.status == "COMPLETED" and record.request_id is None
    assert record.parts == [{"id": kite.id, "sha256": kite.sha256}, {"id": shot.id, "sha256": shot.sha256}]
    assert record.video_path == "film.mp4" and record.video["duration_s"] == 8.0
    assert record.params.size == "1280x720" and record.params.duration == 8
    VALIDATOR.validate(json.loads(json.dumps(record.to_dict())))
    assert Ledger.in_dir(Path("sora-outputs")).get(record.id) == record  # through the journal


def test_a_films_record_verifies_and_fails_after_a_flipped_byte(server, kite, tmp_path):
    film = sw.stitch([kite, kite], crossfade=0.5)  # re-encoded, into the output dir
    assert film.parent == Path("sora-outputs") and film.suffix == ".mp4"
    assert abs(video.facts(film)["duration_s"] - 7.5) <= 0.1  # the crossfade overlaps
    notebook = tmp_path / "film.ipynb"
    cell = {
        "id": "c1",
        "cell_type": "code",
        "metadata": {},
        "source": "sw.stitch(...)",
        "execution_count": 1,
        "outputs": [
            {
                "output_type": "execute_result",
                "metadata": {},
                "execution_count": 1,
                "data": film._repr_mimebundle_(),
            }
        ],
    }
    notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))
    found = {r.id: r for r in read_records(notebook)}
    assert found[film.record.id].kind == "film"
    assert verify(notebook) == []

    data = bytearray(film.read_bytes())
    data[len(data) // 2] ^= 0x01
    film.write_bytes(bytes(data))
    problems = verify(notebook)
    assert len(problems) == 1
    assert problems[0].startswith(f"{film.record.id}: {film.record.video_path} has changed")
    assert verify_records([film.record], tmp_path) == problems


def test_stitch_refuses_clips_of_different_sizes_naming_the_odd_one(server, kite, tmp_path):
    tall = sw.generate("a lighthouse at dusk", duration=4, size="portrait")
    with pytest.raises(
        sw.InvalidParams, match=rf"clips\[1\] \({tall.id}\) is 720x1280, the others are 1280x720"
    ):
        sw.stitch([kite, tall, kite], tmp_path / "mixed.mp4")
    with pytest.raises(sw.InvalidParams, match=rf"clips\[0\] \({tall.id}\) is 720x1280"):
        sw.stitch([tall, kite, kite], tmp_path / "mixed.mp4")  # the odd one, even first
    assert not (tmp_path / "mixed.mp4").exists()


# -- replay and records --------------------------------------------------------------------------


def test_replay_of_an_extended_shot_extracts_the_frame_again_and_says_so_when_it_cannot(server, kite):
    shot = sw.extend(kite, "the kite dives toward the sea")
    sent_before = uploads(server)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about: the parent's file is here
        again = sw.replay(shot)
    assert uploads(server) == sent_before + 1  # extracted and uploaded again
    assert again.replay_of == shot.id and again.derived_from == shot.derived_from
    # the emulator names an upload by its content: the very same frame went up again
    assert again.params.input_reference == shot.params.input_reference
    assert again.reference_source == f"last frame of {kite.id}"

    Path(kite.video_path).unlink()
    with pytest.warns(sw.LineageWarning, match=f"continues {kite.id}.*as it was sent"):
        fallback = sw.replay(shot.id)
    assert uploads(server) == sent_before + 1  # nothing extracted: the URL as sent
    assert fallback.params.input_reference == shot.params.input_reference


def test_records_lists_lineage_and_films(server, kite, tmp_path, capsys):
    shot = sw.extend(kite, "the kite dives toward the sea")
    remixed = sw.remix(kite, duration=8)
    film = sw.stitch([kite, shot], "film.mp4")
    cells = [
        {
            "id": f"c{i}",
            "cell_type": "code",
            "metadata": {},
            "source": "",
            "execution_count": i,
            "outputs": [{"output_type": "display_data", "metadata": {}, "data": record_bundle([r])}],
        }
        for i, r in enumerate([kite, shot, remixed, film.record])
    ]
    notebook = tmp_path / "lineage.ipynb"
    notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))

    assert cli.main(["records", str(notebook)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert f"continues {kite.id}" in lines[shot.id]
    assert f"remix of {kite.id}" in lines[remixed.id]
    assert f"film of {kite.id}, {shot.id}" in lines[film.record.id]
    assert "continues" not in lines[kite.id] and "film" in lines[film.record.id]


def test_replay_from_the_command_line_extracts_an_extended_shots_frame_again(server, kite, tmp_path, capsys):
    shot = sw.extend(kite, "the kite dives toward the sea")
    notebook = tmp_path / "shots.ipynb"
    cells = [
        {
            "id": "c1",
            "cell_type": "code",
            "metadata": {},
            "source": "",
            "execution_count": 1,
            "outputs": [{"output_type": "display_data", "metadata": {}, "data": record_bundle([kite, shot])}],
        }
    ]
    notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    sent_before = uploads(server)

    assert cli.main(["replay", str(notebook), shot.id]) == 0
    out = capsys.readouterr().out
    assert f"reference  last frame of {kite.id}, extracted again from {kite.video_path}" in out
    assert uploads(server) == sent_before + 1
    again = next(r for r in read_records(notebook) if r.replay_of == shot.id)
    assert again.derived_from == {"id": kite.id, "how": "extend"}
    assert again.params.input_reference == shot.params.input_reference  # the same frame, uploaded again
    assert f"sw.extend(\n    {kite.id!r},\n" in reproduce_code(again)


# -- in widgets: Continue on a card, a Storyboard ------------------------------------------------


class Sent:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    def __call__(self, content: dict, buffers=None) -> None:
        self.messages.append(content)

    async def reply(self, request: str, timeout: float = 60.0) -> dict:
        for _ in range(int(timeout * 20)):
            for message in self.messages:
                if message.get("id") == request and message.get("kind") == "reply":
                    return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"no reply to {request}: {self.messages}")


async def test_continue_on_a_finished_card_makes_a_job_whose_record_names_its_parent(
    server, tmp_path, monkeypatch
):
    from sora_widget.widget import SoraWidget

    async with sw.AsyncSoraClient(output_dir=tmp_path / "sora-outputs") as client:
        widget = SoraWidget(
            prompt="a red kite rising over the dunes", duration=4, size="landscape", client=client
        )
        sent = Sent()
        monkeypatch.setattr(widget, "send", sent)
        first = await widget.wait_for(widget.start().id)
        assert first.status == "COMPLETED"

        widget._on_message(
            widget, {"kind": "continue", "id": "c1", "job": first.id, "prompt": "the kite dives"}, []
        )
        reply = await sent.reply("c1")
        assert reply["ok"] is True
        shot = await widget.wait_for(reply["job"])
        assert shot.status == "COMPLETED" and shot.params.prompt == "the kite dives"
        assert shot.derived_from == {"id": first.id, "how": "extend"}
        assert shot.reference_source == f"last frame of {first.id}"
        assert (shot.params.size, shot.params.duration) == ("1280x720", 4)
        card = next(j for j in widget.jobs if j["id"] == shot.id)
        assert card["derived_from"] == {"id": first.id, "how": "extend", "prompt": first.params.prompt}

        # Remix: the controls were filled with the job's parameters, then Generate
        params = {**first.params.to_dict(), "duration": 8}
        widget._on_message(
            widget,
            {"kind": "generate", "id": "g1", "params": params, "model": "sora-2", "remix_of": first.id},
            [],
        )
        remixed = await widget.wait_for((await sent.reply("g1"))["job"])
        assert remixed.derived_from == {"id": first.id, "how": "remix"}
        assert remixed.params.duration == 8 and remixed.params.prompt == first.params.prompt
        widget.close()


async def test_a_storyboard_makes_its_shots_in_order_each_from_the_last_and_stitches_them(server, tmp_path):
    from sora_widget.storyboard import Storyboard

    prompts = [
        "a red kite rising over the dunes",
        "the kite dives toward the sea",
        "the kite skims the waves",
    ]
    async with sw.AsyncSoraClient(output_dir=tmp_path / "sora-outputs") as client:
        board = Storyboard(shots=prompts, duration=4, size="landscape", client=client)
        film = await board.arun()

        shots = board.clips
        assert [s.params.prompt for s in shots] == prompts
        assert shots[0].derived_from is None and shots[0].params.input_reference is None
        for before, after in itertools.pairwise(shots):
            assert after.derived_from == {"id": before.id, "how": "extend"}
            assert after.reference_source == f"last frame of {before.id}"
        assert film == board.film and film.record.parts == [{"id": s.id, "sha256": s.sha256} for s in shots]
        assert abs(video.facts(film)["duration_s"] - 12.0) <= 0.1
        assert film.parent == tmp_path / "sora-outputs"
        assert board.board == {
            "running": False,
            "current": None,
            "shots": [s.id for s in shots],
            "film": film.record.id,
            "error": None,
        }
        kinds = [(j["id"], j["kind"]) for j in board.jobs]
        assert kinds == [*((s.id, "clip") for s in shots), (film.record.id, "film")]
        logged = Ledger.in_dir(tmp_path / "sora-outputs")
        assert logged.get(film.record.id).kind == "film"
        board.close()


async def test_a_storyboard_run_again_pays_for_no_shot_twice_and_its_button_makes_new_takes(server, tmp_path):
    from sora_widget.storyboard import Storyboard

    prompts = ["a red kite rising over the dunes", "the kite dives toward the sea"]
    async with sw.AsyncSoraClient(output_dir=tmp_path / "sora-outputs") as client:
        board = Storyboard(shots=prompts, duration=4, size="landscape", client=client)
        await board.arun()
        made = [s.id for s in board.clips]
        before = (uploads(server), server.stats()["submits"])

        film = await board.arun()  # the cell run again
        assert [s.id for s in board.clips] == made
        assert (uploads(server), server.stats()["submits"]) == before
        assert film.record.parts == [{"id": s.id, "sha256": s.sha256} for s in board.clips]

        await board.arun(reuse=False)  # what Generate film does: new takes
        assert not set(s.id for s in board.clips) & set(made)
        assert board.clips[0].take == 2
        assert server.stats()["submits"] == before[1] + 2
        board.close()


async def test_a_storyboard_stops_at_a_failed_shot_and_says_why(emulator, tmp_path):
    server = emulator(latency=0.2, block_words=("forbidden",))
    async with sw.AsyncSoraClient(api_key="k", base_url=server.base_url, output_dir=tmp_path) as client:
        from sora_widget.storyboard import Storyboard

        board = Storyboard(shots=["a calm sea", "a forbidden scene", "a third shot"], client=client)
        with pytest.raises(sw.GenerationFailed):
            await board.arun()
        assert board.board["running"] is False and board.board["film"] is None
        assert board.board["error"]["type"] == "GenerationFailed"
        assert board.board["shots"][2] is None  # never started
        assert [r.status for r in board.generations] == ["COMPLETED", "FAILED"]
        assert board.film is None
        board.close()
