"""The emulator's request history over real HTTP: Segmind's paths and query parameters,
its row fields, each key its own rows, the charge in `credits_deduction`, the credit balance
in `x-remaining-credits`, and outputs kept past the hour results are served."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx

HISTORY = "/inference-request/request-history"
CLIP = {"prompt": "a heron in the reeds", "duration": 4, "size": "1280x720"}


def client_for(emu, key: str = "test-key") -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=emu.base_url, headers={"x-api-key": key}, timeout=30)


async def finished(client: httpx.AsyncClient, rid: str) -> dict:
    for _ in range(300):
        row = (await client.get(f"{HISTORY}/{rid}")).json()
        if row["model_status"] != "PENDING":
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"{rid} still PENDING in the history")


async def test_every_request_is_a_row_with_its_cost_inputs_and_outcome(emulator):
    emu = emulator(latency=0.1, block_words=("volcano",))
    async with client_for(emu) as client:
        made = (await client.post("/v2/sora-2", json=CLIP)).json()["request_id"]
        blocked = (await client.post("/v2/sora-2-pro", json={**CLIP, "prompt": "a volcano"})).json()
        running = (await client.get(f"{HISTORY}/{made}")).json()
        assert running["model_status"] == "PENDING" and running["generation_url"] is None
        row = await finished(client, made)
        failed = await finished(client, blocked["request_id"])
        listed = await client.get(HISTORY)
    assert row["request_id"] == made and row["model_name"] == "sora-2"
    assert row["model_status"] == "COMPLETED" and row["error"] is None
    assert row["credits_deduction"] == 0.4  # what sora-2 charges for 4 s (the catalogue's price)
    assert row["request_body"] == CLIP  # the inputs as sent
    assert row["generation_url"] == f"{emu.base_url}/outputs/{made}.mp4"
    assert (
        row["latency_ms"] > 0
        and row["model_created"].endswith("Z")
        and row["model_updated"] >= row["model_created"]
    )
    assert failed["model_status"] == "FAILED" and failed["credits_deduction"] == 0.0
    assert "content policy" in failed["error"] and failed["generation_url"] is None
    page = listed.json()
    assert listed.status_code == 200 and page["total"] == 2 and page["page"] == 1 and page["total_pages"] == 1
    assert [r["request_id"] for r in page["data"]] == [blocked["request_id"], made]  # newest first


async def test_the_query_parameters_filter_sort_and_page(emulator):
    emu = emulator(latency=0.05)
    async with client_for(emu) as client:
        ids = [
            (await client.post(f"/v2/{m}", json=CLIP)).json()["request_id"]
            for m in ("sora-2", "sora-2-pro", "sora-2")
        ]
        for rid in ids:
            await finished(client, rid)

        async def listed(**params) -> dict:
            answer = await client.get(HISTORY, params=params)
            assert answer.status_code == 200, answer.text
            return answer.json()

        pro = await listed(model_name="pro")  # a substring of the slug
        assert [r["request_id"] for r in pro["data"]] == [ids[1]]
        assert (await listed(status="FAILED"))["total"] == 0
        cheapest = await listed(sort_by="credits_deduction", sort_order="asc")
        assert [r["credits_deduction"] for r in cheapest["data"]] == sorted(
            r["credits_deduction"] for r in cheapest["data"]
        )
        first, second = await listed(per_page=2, page=1), await listed(per_page=2, page=2)
        assert first["total_pages"] == 2 and len(first["data"]) == 2 and len(second["data"]) == 1
        assert {r["request_id"] for r in first["data"] + second["data"]} == set(ids)
        today = datetime.now(timezone.utc).date()
        assert (
            await listed(from_date=str(today - timedelta(days=3)), to_date=str(today - timedelta(days=1)))
        )["total"] == 0
        user = first["data"][0]["user_id"]
        assert (await listed(user_id=user))["total"] == 3
        for bad in (
            {"per_page": 101},
            {"status": "RUNNING"},
            {"from_date": "2026-01-01", "to_date": "2026-03-01"},
            {"page": "x"},
        ):
            refused = await client.get(HISTORY, params=bad)
            assert refused.status_code == 400 and refused.json()["error"]


async def test_each_key_sees_only_its_own_requests(emulator):
    emu = emulator()
    async with client_for(emu, "key-a") as a, client_for(emu, "key-b") as b:
        rid = (await a.post("/v2/sora-2", json=CLIP)).json()["request_id"]
        assert (await a.get(f"{HISTORY}/{rid}")).status_code == 200
        assert (await b.get(f"{HISTORY}/{rid}")).status_code == 404
        assert (await b.get(HISTORY)).json()["total"] == 0
        assert (await a.get(HISTORY)).json()["total"] == 1
        async with httpx.AsyncClient(base_url=emu.base_url) as nobody:
            assert (await nobody.get(HISTORY)).status_code == 401


async def test_the_credit_balance_comes_with_every_keyed_answer(emulator):
    emu = emulator(credits=20, latency=0.05)
    async with client_for(emu) as client:
        submitted = await client.post("/v2/sora-2", json=CLIP)
        assert submitted.headers["x-remaining-credits"] == "16"  # 4 s of video: 4 credits
        status = await client.get(submitted.json()["status_url"])
        history = await client.get(HISTORY)
        assert status.headers["x-remaining-credits"] == history.headers["x-remaining-credits"] == "16"
    unlimited = emulator()
    async with client_for(unlimited) as client:
        assert "x-remaining-credits" not in (await client.post("/v2/sora-2", json=CLIP)).headers


async def test_outputs_can_answer_past_the_hour_the_result_is_served(emulator):
    emu = emulator(latency=0.05, retention=0.3, output_retention=60.0)
    async with client_for(emu) as client:
        rid = (await client.post("/v2/sora-2", json=CLIP)).json()["request_id"]
        row = await finished(client, rid)
        for _ in range(100):
            if (await client.get(f"/v2/requests/{rid}")).status_code == 404:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the result never expired")
        kept = await client.get(row["generation_url"])
        again = (await client.get(f"{HISTORY}/{rid}")).json()
    assert kept.status_code == 200 and kept.content[4:8] == b"ftyp"
    assert again["generation_url"] == row["generation_url"] and again["model_status"] == "COMPLETED"
