"""Injected failures as a client meets them: 5xx answers and connections cut mid-body,
at roughly the configured rate, and a failed submit that did or did not create a job."""

from __future__ import annotations

import time

import httpx
import pytest

KEY = {"x-api-key": "test-key"}
CLIP = {"prompt": "a lighthouse at dusk", "duration": 4, "size": "1280x720"}
N = 200


def submit(emu) -> dict:
    response = httpx.post(emu.base_url + "/v2/sora-2", json=CLIP, headers=KEY, timeout=30)
    assert response.status_code == 200
    return response.json()


async def test_server_errors_at_about_the_configured_rate(emulator):
    emu = emulator(seed=42)
    job = submit(emu)
    emu.configure(chaos_error_rate=0.25, chaos_endpoints=("status",))
    async with httpx.AsyncClient(headers=KEY, timeout=30) as client:
        answers = [await client.get(job["status_url"]) for _ in range(N)]
    errors = [a for a in answers if a.status_code >= 500]
    assert 0.15 * N <= len(errors) <= 0.35 * N
    assert {a.status_code for a in errors} <= {500, 502, 504}
    assert all("chaos" in a.json()["error"] and a.headers["x-sora-emulator"] for a in errors)
    assert all(a.status_code == 200 for a in answers if a not in errors)
    stats = emu.stats()
    assert stats["chaos"]["errors"] == len(errors)
    assert stats["requests"]["status"] == N


async def test_dropped_connections_at_about_the_configured_rate(emulator):
    emu = emulator(seed=7)
    job = submit(emu)
    emu.configure(chaos_drop_rate=0.2, chaos_endpoints=("status",))
    drops = 0
    async with httpx.AsyncClient(headers=KEY, timeout=30) as client:
        for _ in range(N):
            try:
                answer = await client.get(job["status_url"])
            except (httpx.RemoteProtocolError, httpx.ReadError):
                drops += 1
            else:
                assert answer.status_code == 200
    assert 0.1 * N <= drops <= 0.3 * N
    assert emu.stats()["chaos"]["drops"] == drops


def test_a_5xx_on_submit_creates_no_job(emulator):
    emu = emulator(chaos_error_rate=1.0, chaos_endpoints=("submit",))
    response = httpx.post(emu.base_url + "/v2/sora-2", json=CLIP, headers=KEY, timeout=30)
    assert response.status_code in (500, 502, 504)
    stats = emu.stats()
    assert stats["submits"] == 0 and stats["requests"]["submit"] == 1


@pytest.mark.parametrize(("after_accept", "jobs"), [(True, 1), (False, 0)])
def test_a_dropped_submit_may_or_may_not_have_created_the_job(emulator, after_accept, jobs):
    emu = emulator(chaos_drop_rate=1.0, chaos_endpoints=("submit",), chaos_drop_after_accept=after_accept)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.post(emu.base_url + "/v2/sora-2", json=CLIP, headers=KEY, timeout=30)
    stats = emu.stats()
    assert stats["submits"] == jobs and stats["chaos"]["drops"] == 1


def test_a_download_cut_short_can_be_resumed_with_a_range(emulator):
    emu = emulator(latency=0.05)
    job = submit(emu)
    with httpx.Client(headers=KEY, timeout=30) as client:
        for _ in range(600):
            if client.get(job["status_url"]).json()["status"] == "COMPLETED":
                break
            time.sleep(0.05)
        output = client.get(job["response_url"]).json()["output"]
        whole = client.get(output).content
        emu.configure(chaos_drop_rate=1.0, chaos_endpoints=("output",))
        received = bytearray()
        with (
            pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)),
            client.stream("GET", output) as stream,
        ):
            assert stream.headers["content-length"] == str(len(whole))
            for chunk in stream.iter_raw():
                received += chunk
        assert 0 < len(received) < len(whole)
        emu.configure(chaos_drop_rate=0.0)
        rest = client.get(output, headers={"range": f"bytes={len(received)}-"})
    assert rest.status_code == 206
    assert bytes(received) + rest.content == whole


def test_delays_are_counted(emulator):
    emu = emulator(chaos_delay=0.01, chaos_endpoints=("status",))
    job = submit(emu)
    for _ in range(5):
        assert httpx.get(job["status_url"], headers=KEY, timeout=30).status_code == 200
    assert emu.stats()["chaos"]["delays"] == 5
