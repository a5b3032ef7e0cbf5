"""The key stays home: whatever client is passed in, redirects are followed by our own
code, which sends `x-api-key` to the API's origins only; a server that echoes the key
has it redacted before it reaches an exception, a record or the ledger; a base URL with
credentials is refused, and `api_host` is `host[:port]` only. No network: the API is an
httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

import sora_widget as sw
from sora_widget import api
from sora_widget.client import AsyncSoraClient, RetryPolicy
from sora_widget.client._config import normalize_base_url, resolve_history_url, resolve_upload_url
from sora_widget.client._requests import Clock
from sora_widget.errors import BadRequest, ConfigurationError, GenerationFailed, ServerError
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

from .conftest import FAKE_KEY

API = "https://api.test"
ELSEWHERE = "https://elsewhere.test"


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


#: polls without waiting (the schedule's sleeps are the client's, not the server's)
NO_WAITING = Clock(sleep=_no_sleep)


class Server:
    """Answers by (method, URL); every request it saw, with whether it carried the key."""

    def __init__(self, routes):
        self.routes = routes
        self.seen: list[tuple[str, str, bool]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, str(request.url), "x-api-key" in request.headers))
        answer = self.routes.get((request.method, str(request.url)))
        if answer is None:
            return httpx.Response(404, json={"error": "not here"})
        return answer() if callable(answer) else answer

    def keys_sent_to(self, origin: str) -> int:
        return sum(1 for _, url, keyed in self.seen if url.startswith(origin) and keyed)


def client(server, tmp_path, **options) -> AsyncSoraClient:
    # the client a user might pass in: one that follows redirects itself
    http = httpx.AsyncClient(transport=httpx.MockTransport(server), follow_redirects=True)
    return AsyncSoraClient(api_key=FAKE_KEY, base_url=API, output_dir=tmp_path / "out", http=http, **options)


def queued(request_id="req-1") -> Generation:
    record = Generation(id="g1", params=GenerationParams("a cat", 4), request_id=request_id)
    record.set_status("QUEUED")
    return record


async def test_a_redirect_to_another_origin_never_carries_the_key_even_with_a_following_client(tmp_path):
    server = Server(
        {
            ("GET", f"{API}/v2/requests/req-1/status"): httpx.Response(
                302, headers={"location": f"{ELSEWHERE}/status"}
            ),
            ("GET", f"{ELSEWHERE}/status"): httpx.Response(200, json={"status": "PROCESSING"}),
            ("POST", f"{API}/v2/sora-2"): httpx.Response(307, headers={"location": f"{ELSEWHERE}/submit"}),
            ("POST", f"{ELSEWHERE}/submit"): httpx.Response(
                200, json={"request_id": "req-2", "status": "QUEUED"}
            ),
        }
    )
    async with client(server, tmp_path) as c:
        assert await c.status(queued()) == "PROCESSING"  # followed, hop by hop
        submitted = await c.submit("a cat", duration=4)  # a 307 repeats the POST there
    assert submitted.request_id == "req-2"
    assert server.keys_sent_to(API) == 2
    assert server.keys_sent_to(ELSEWHERE) == 0
    assert [url for _, url, _ in server.seen] == [
        f"{API}/v2/requests/req-1/status",
        f"{ELSEWHERE}/status",
        f"{API}/v2/sora-2",
        f"{ELSEWHERE}/submit",
    ]


async def test_a_submit_redirected_with_303_is_not_turned_into_a_get(tmp_path):
    server = Server(
        {("POST", f"{API}/v2/sora-2"): httpx.Response(303, headers={"location": f"{API}/elsewhere"})}
    )
    async with client(server, tmp_path) as c:
        with pytest.raises(sw.SoraError):
            await c.submit("a cat", duration=4)
    # (then the account's request history is asked whether the job was taken: a GET there)
    assert [method for method, url, _ in server.seen if "/inference-request/" not in url] == ["POST"]


async def test_the_video_download_follows_redirects_itself_and_keeps_the_key_home(tmp_path):
    server = Server(
        {
            ("GET", f"{API}/outputs/req-1.mp4"): httpx.Response(
                302, headers={"location": f"{ELSEWHERE}/v.mp4"}
            ),
            ("GET", f"{ELSEWHERE}/v.mp4"): httpx.Response(200, content=b"<html>not a video</html>"),
        }
    )
    record = queued()
    record.set_status("COMPLETED")
    async with client(server, tmp_path) as c:
        with pytest.raises(sw.DownloadError):
            await c.download(record, url=f"{API}/outputs/req-1.mp4")
    assert server.keys_sent_to(API) == 1 and server.keys_sent_to(ELSEWHERE) == 0


def everything_written(tmp_path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


async def test_a_server_that_echoes_the_key_has_it_redacted_from_errors_records_and_the_ledger(tmp_path):
    echo = {"error": f"invalid request for key {FAKE_KEY}"}
    server = Server(
        {
            ("POST", f"{API}/v2/sora-2"): httpx.Response(400, json=echo),
            ("GET", f"{API}/v2/requests/req-1/status"): httpx.Response(
                422, json={"status": "FAILED", "error": f"blocked ({FAKE_KEY})"}
            ),
            ("GET", f"{API}/v2/requests/req-9/status"): httpx.Response(
                500, text=f"Internal error, headers were x-api-key: {FAKE_KEY}"
            ),
        }
    )
    raised = []
    async with client(server, tmp_path, retry=RetryPolicy(max_attempts=1), clock=NO_WAITING) as c:
        with pytest.raises(BadRequest) as refused:
            await c.submit("a cat", duration=4)
        raised.append(refused.value)
        waiting = queued()
        with pytest.raises(GenerationFailed) as failed:
            await c.wait(waiting, timeout=30)
        raised.append(failed.value)
        with pytest.raises(ServerError) as broken:
            await c.status(queued("req-9"))
        raised.append(broken.value)
    for error in raised:
        record = error.record.to_dict() if error.record is not None else None
        text = f"{error} {error.detail} {json.dumps(error.to_dict())} {json.dumps(record)}"
        assert FAKE_KEY not in text
        assert "***" in f"{error} {error.detail}"
    assert "***" in json.dumps(waiting.to_dict())
    assert FAKE_KEY.encode() not in everything_written(tmp_path)
    assert (tmp_path / "out" / "ledger.sqlite").exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2@api.segmind.com",
        "https://:hunter2@api.segmind.com/v1",
        "http://key@127.0.0.1:9/",
        "ftp://user:hunter2@api.segmind.com",  # not http(s) either: still never shown
    ],
)
def test_a_base_url_with_credentials_is_refused_without_showing_them(url, tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        normalize_base_url(url)
    assert "hunter2" not in str(refused.value) and "key@" not in str(refused.value)
    with pytest.raises(ConfigurationError):
        AsyncSoraClient(api_key=FAKE_KEY, base_url=url, output_dir=tmp_path)
    for resolve in (resolve_upload_url, resolve_history_url):
        with pytest.raises(ConfigurationError) as refused:
            resolve(API, url)
        assert "hunter2" not in str(refused.value) and "key@" not in str(refused.value)


def test_settings_and_the_widget_never_show_credentials_from_the_environment(project, monkeypatch):
    monkeypatch.setenv("SEGMIND_BASE_URL", "https://me:hunter2@api.segmind.com")
    with pytest.raises(ConfigurationError) as refused:
        api.settings()
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://api.segmind.com", "api.segmind.com"),
        ("https://API.Segmind.com:8443/v2", "api.segmind.com:8443"),
        ("http://[::1]:8765", "[::1]:8765"),
    ],
)
def test_records_keep_the_api_host_as_host_and_port_only(base_url, host, tmp_path):
    from sora_widget.client._config import api_host

    assert api_host(normalize_base_url(base_url)) == host
    made = AsyncSoraClient(api_key=FAKE_KEY, base_url=base_url, output_dir=tmp_path)
    assert made.prepare("a cat", duration=4).api_host == host
