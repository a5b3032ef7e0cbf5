"""A batch's view: what it sends to the view as generate_many drives it."""

from __future__ import annotations

import asyncio

from sora_widget.batch.view import BatchView
from sora_widget.client import AsyncSoraClient


async def test_items_progress_and_a_paced_publish(tmp_path):
    async with AsyncSoraClient(api_key="k", base_url="http://127.0.0.1:9", output_dir=tmp_path) as client:
        records = [client.prepare(f"item {i}", duration=4) for i in range(3)]
        done_before = records[2]
        done_before.set_status("COMPLETED")
        done_before.video_path = "saved.mp4"
        widget = BatchView("b1", records, {done_before.id}, client=client)

        assert [j["status"] for j in widget.jobs] == ["PENDING", "PENDING", "COMPLETED"]
        assert widget.batch == {
            "id": "b1",
            "total": 3,
            "done": 1,
            "completed": 1,
            "failed": 0,
            "unknown": 0,
            "running": 0,
        }
        assert repr(widget) == "SoraWidget(mode='batch', items=3)"  # stable: notebooks compare it

        first = records[0]
        first.submitted_at = first.updated_at
        first.request_id = "req-1"
        first.set_status("QUEUED")
        widget.track(first, active=True)
        assert widget.jobs[0]["status"] == "PENDING"  # shown at a bounded pace, not at once
        await asyncio.sleep(0.4)
        assert widget.jobs[0]["status"] == "QUEUED" and widget.jobs[0]["waiting"] is True
        assert widget.batch["running"] == 1

        records[1].set_status("UNKNOWN")
        widget.track(records[1], finished=True)
        first.set_status("FAILED")
        widget.track(first, finished=True)
        widget.flush()
        assert widget.jobs[0]["waiting"] is False
        assert (widget.batch["done"], widget.batch["failed"], widget.batch["unknown"]) == (3, 1, 1)
        widget.close()
