"""The notebook-metadata mirror gathers record changes: each record is sent once per
moment, as it stands last, and everything gathered goes out when a cell ends."""

from __future__ import annotations

import asyncio
from typing import Any

import comm
import pytest

from sora_widget import notebook
from sora_widget.params import GenerationParams
from sora_widget.records import Generation


class Sent:
    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.closed = 0

    def create_comm(self, *, target_name: str, data: dict[str, Any]) -> Sent:
        assert target_name == notebook.COMM_TARGET
        self.payloads.append(data)
        return self

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    fake = Sent()
    monkeypatch.setattr(comm, "create_comm", fake.create_comm)
    return fake


def record(rid: str, status: str = "SUBMITTING") -> Generation:
    r = Generation(id=rid, params=GenerationParams(prompt="a kite", duration=4))
    r.set_status(status)
    return r


async def test_events_of_a_moment_are_sent_once_per_record_as_it_stands_last(sent: Sent) -> None:
    mirror = notebook.MetadataMirror()
    one, two = record("one"), record("two")
    mirror("submitting", one)
    one.set_status("QUEUED")
    mirror("submitted", one)
    mirror("submitting", two)
    assert sent.payloads == []  # gathered, not sent yet
    await asyncio.sleep(notebook.MIRROR_EVERY_S + 0.1)
    assert [(p["record"]["id"], p["event"], p["record"]["status"]) for p in sent.payloads] == [
        ("one", "submitted", "QUEUED"),
        ("two", "submitting", "SUBMITTING"),
    ]
    assert sent.closed == 2  # each comm is closed at once


async def test_many_records_all_go_out_once_and_flush_sends_at_once(sent: Sent) -> None:
    mirror = notebook.MetadataMirror()
    for i in range(3 * notebook.MIRROR_PER_STEP):
        mirror("submitting", record(f"r{i}"))
    await asyncio.sleep(notebook.MIRROR_EVERY_S + 0.1)
    ids = [p["record"]["id"] for p in sent.payloads]
    assert len(set(ids)) == len(ids) == 3 * notebook.MIRROR_PER_STEP
    mirror("completed", record("last", "COMPLETED"))
    mirror.flush()  # a cell ended
    assert sent.payloads[-1]["record"]["id"] == "last"
    await asyncio.sleep(notebook.MIRROR_EVERY_S + 0.05)
    assert len(sent.payloads) == 3 * notebook.MIRROR_PER_STEP + 1  # nothing sent twice


def test_without_a_running_loop_a_change_is_sent_at_once(sent: Sent) -> None:
    notebook.MetadataMirror()("completed", record("now", "COMPLETED"))
    assert [p["record"]["id"] for p in sent.payloads] == ["now"]
