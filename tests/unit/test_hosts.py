"""Which host a kernel runs in, and where a view's record output lives there — no kernel,
no host: the real hosts are driven by tests/e2e/test_voila.py and test_marimo.py."""

from __future__ import annotations

import subprocess
import sys

from sora_widget import environment, views
from sora_widget.batch.view import BatchView
from sora_widget.client import AsyncSoraClient
from sora_widget.records import MIMETYPE, record_bundle


def test_outside_any_host_the_record_output_is_an_output_of_its_own_and_marimo_is_not_imported():
    # a fresh interpreter: whether marimo is installed or not, asking must not import it
    code = (
        "import sys; from sora_widget import environment as e; "
        "print(e.in_marimo(), e.in_voila(), e.record_output_in_view(), e.frontend_has_widgets(), "
        "'marimo' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"VOILA_BASE_URL": "/", "PATH": ""},  # Voilà's variable alone is not a Voilà kernel
    ).stdout.split()
    assert out == ["False", "False", "False", "False", "False"]


async def test_where_the_host_never_updates_an_output_the_view_carries_the_record(tmp_path, monkeypatch):
    monkeypatch.setattr(views, "record_output_in_view", lambda: True)
    async with AsyncSoraClient(api_key="k", base_url="http://127.0.0.1:9", output_dir=tmp_path) as client:
        record = client.prepare("a kite", duration=4)
        view = BatchView("b1", [record], set(), client=client)
        assert view.record_output["generations"][0]["id"] == record.id
        record.request_id = "req-1"
        record.set_status("COMPLETED")
        view.track(record, finished=True)
        view.flush()
        shown = view.record_output
        assert shown["generations"][0]["status"] == "COMPLETED"
        # the same records the record output holds in a notebook, under our mimetype
        assert shown == record_bundle([record])[MIMETYPE]
        view.close()


async def test_elsewhere_the_view_carries_no_record(tmp_path):
    assert not environment.record_output_in_view()
    async with AsyncSoraClient(api_key="k", base_url="http://127.0.0.1:9", output_dir=tmp_path) as client:
        view = BatchView("b1", [client.prepare("a kite", duration=4)], set(), client=client)
        assert view.record_output == {}
        view.close()
