"""The notebook-metadata mirror gathers record changes: the records that changed in a
moment go out in one message, each once as it stands last, and everything gathered goes
out when a cell ends."""

from __future__ import annotations

import asyncio
from typing import Any

import comm
import pytest

from sora_widget import notebook
from sora_widget.params import GenerationParams
from sora_widget.records import SCHEMA_VERSION, Generation


class Sent:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.closed = 0

    def create_comm(self, *, target_name: str, data: dict[str, Any]) -> Sent:
        assert target_name == notebook.COMM_TARGET
        assert data["schema_version"] == SCHEMA_VERSION
        self.messages.append(data)
        return self

    def close(self) -> None:
        self.closed += 1

    def updates(self) -> list[tuple[str, str, str]]:
        every = [u for m in self.messages for u in m["updates"]]
        return [(u["record"]["id"], u["event"], u["record"]["status"]) for u in every]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    fake = Sent()
    monkeypatch.setattr(comm, "create_comm", fake.create_comm)
    return fake


def record(rid: str, status: str = "SUBMITTING", cell_id: str | None = "cell-1") -> Generation:
    notebook = {"path": "kites.ipynb", "cell_id": cell_id} if cell_id else None
    r = Generation(id=rid, params=GenerationParams(prompt="a kite", duration=4), notebook=notebook)
    r.set_status(status)
    return r


async def test_the_changes_of_a_moment_are_one_message_each_record_as_it_stands_last(sent: Sent) -> None:
    mirror = notebook.MetadataMirror()
    one, two = record("one"), record("two")
    mirror("submitting", one)
    one.set_status("QUEUED")
    mirror("submitted", one)
    mirror("submitting", two)
    assert sent.messages == []  # gathered, not sent yet
    await asyncio.sleep(notebook.MIRROR_EVERY_S + 0.1)
    assert sent.updates() == [("one", "submitted", "QUEUED"), ("two", "submitting", "SUBMITTING")]
    assert len(sent.messages) == sent.closed == 1  # one comm, closed at once


async def test_many_records_go_out_in_messages_of_a_few_dozen_and_flush_sends_at_once(sent: Sent) -> None:
    mirror = notebook.MetadataMirror()
    many = 2 * notebook.MIRROR_PER_MESSAGE + 1
    for i in range(many):
        mirror("submitting", record(f"r{i}"))
    await asyncio.sleep(notebook.MIRROR_EVERY_S + 0.1)
    assert [len(m["updates"]) for m in sent.messages] == [notebook.MIRROR_PER_MESSAGE] * 2 + [1]
    assert len({u[0] for u in sent.updates()}) == many
    mirror("completed", record("last", "COMPLETED"))
    mirror.flush()  # a cell ended
    assert sent.updates()[-1] == ("last", "completed", "COMPLETED")
    await asyncio.sleep(notebook.MIRROR_EVERY_S + 0.1)
    assert len(sent.updates()) == many + 1  # nothing sent twice


def test_without_a_running_loop_a_change_is_sent_at_once(sent: Sent) -> None:
    notebook.MetadataMirror()("completed", record("now", "COMPLETED"))
    assert sent.updates() == [("now", "completed", "COMPLETED")]


def test_nothing_is_sent_until_a_notebook_frontend_names_a_cell(sent: Sent) -> None:
    """Voilà (or a console) never names a cell: no comm is opened there, since nobody on the
    page listens and each refused comm is an error on the page."""
    mirror = notebook.MetadataMirror()
    mirror("completed", record("voila", "COMPLETED", cell_id=None))
    mirror.flush()
    assert sent.messages == []
    mirror("completed", record("lab", "COMPLETED"))
    mirror("completed", record("widget-click", "COMPLETED", cell_id=None))
    mirror.flush()
    assert [u[0] for u in sent.updates()] == ["lab", "widget-click"]
