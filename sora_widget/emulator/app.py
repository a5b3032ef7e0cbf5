"""The HTTP face of the emulator: Segmind's paths, status codes and bodies.

Every API request goes through the same gate, in this order: count it → chaos may
delay it or answer 5xx (before anything is created) → the key (401) → the rate limit
(429) → the handler → chaos may cut the answer short (after the job was created,
which is the case a client must survive without paying twice).

The bodies follow those of Segmind's v2 API as its official SDK's tests record them:
a submit answers `request_id`, `status`, `status_url`, `response_url` and `poll_url`
(`GET /v1/requests/{id}`); a finished job carries `error` (null on success) and
`metrics` (`inference_time`, `queue_time`, `total_time` in seconds, and `cost` once
COMPLETED); a FAILED one is served as 422 (or 200, with `failed_status=200`) with
`status`, `error`, `metrics` and `request_id`. The emulator's own additions are marked:
`synthetic: true` in `metrics`, and the `x-sora-emulator` header on every response.

The account's request history (`history.py`) is served at Segmind's paths,
`/inference-request/request-history[/{id}]`, on this same origin (Segmind serves it from
api.spotprod.segmind.com; a client is pointed here with SEGMIND_HISTORY_URL). With a credit
balance (`credits`), every keyed answer carries `x-remaining-credits`, as Segmind's do.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from .._version import __version__
from ..errors import InvalidParams
from ..params import MAX_REFERENCE_BYTES, from_payload
from .assets import AssetRejected
from .catalogue import listing, refusal
from .config import EmulatorConfig, from_options
from .history import BadQuery, key_digest
from .jobs import COMPLETED, FAILED, Job, OutOfCredits
from .ranges import Unsatisfiable, parse_range
from .ratelimit import retry_after
from .responses import Dropped, FileSlice, LabelMiddleware, error
from .runtime import Runtime

Handler = Callable[[Request], Awaitable[Response]]

_RETENTION_NOTE = "results are kept for a limited time after completion"


def create_app(
    config: EmulatorConfig | None = None, *, runtime: Runtime | None = None, **options: Any
) -> ASGIApp:
    """The emulator as an ASGI app (e.g. `uvicorn --factory sora_widget.emulator:create_app`).

    Given a `runtime`, the app serves it and leaves closing it to the caller; otherwise
    it makes its own and closes it at lifespan shutdown.
    """
    if runtime is None:
        runtime = Runtime(config if config is not None else from_options(options))
        owned = True
    else:
        owned = False
    api = _Api(runtime)
    routes = [
        Route("/v2/requests/{request_id}/status", api.gate("status", api.status), methods=["GET"]),
        Route("/v2/requests/{request_id}", api.gate("result", api.result), methods=["GET"]),
        Route("/v1/requests/{request_id}", api.gate("poll", api.poll), methods=["GET"]),
        Route("/v2/{model}", api.gate("submit", api.submit), methods=["POST"]),
        Route("/v1/{model}", api.gate("sync", api.sync), methods=["POST"]),
        Route("/upload-asset", api.gate("upload", api.upload), methods=["POST"]),
        Route(HISTORY_PATH, api.gate("history", api.history_page), methods=["GET"]),
        Route(HISTORY_PATH + "/{request_id}", api.gate("history", api.history_row), methods=["GET"]),
        Route("/assets/{name}", api.gate("asset", api.asset, keyed=False), methods=["GET"]),
        Route("/_emulator/stats", api.stats, methods=["GET"]),
        Route("/_emulator/config", api.configure, methods=["POST"]),
        Route("/", api.about, methods=["GET"]),
    ]
    if not runtime.config.separate_output_host:
        routes.append(_output_route(api))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        runtime.ensure_running()
        yield
        if owned:
            await runtime.aclose()

    return LabelMiddleware(Starlette(routes=routes, lifespan=lifespan, exception_handlers=_HANDLERS))


def create_output_app(runtime: Runtime) -> ASGIApp:
    """The output host alone (a different origin, like Segmind's CDN)."""
    return LabelMiddleware(Starlette(routes=[_output_route(_Api(runtime))], exception_handlers=_HANDLERS))


def _output_route(api: _Api) -> Route:
    return Route("/outputs/{name}", api.gate("output", api.output, keyed=False), methods=["GET"])


class _Api:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    # -- the gate --------------------------------------------------------------------------

    def gate(self, endpoint: str, handler: Handler, *, keyed: bool = True) -> Handler:
        async def gated(request: Request) -> Response:
            rt = self.rt
            arrived = time.perf_counter()
            rt.ensure_running()
            rt.traffic.arrived(endpoint)
            verdict = rt.chaos.decide(endpoint)
            if verdict.delay:
                await asyncio.sleep(verdict.delay)
            if verdict.error is not None:
                response: Response = error(verdict.error, f"emulated server error {verdict.error} (chaos)")
            elif keyed and (refusal := self._refuse(request)) is not None:
                response = refusal
            elif verdict.drop and endpoint == "submit" and not rt.config.chaos_drop_after_accept:
                # cut before the job exists: the client cannot know, but nothing was billed
                response = error(502, "connection dropped before the job was accepted (chaos)")
            else:
                response = await handler(request)
            if keyed and rt.store.credits is not None:
                # what is left on the account, on every answer to a caller with a key
                response.headers["x-remaining-credits"] = f"{rt.store.credits:g}"
            rt.traffic.answered(endpoint, response.status_code, time.perf_counter() - arrived)
            return Dropped(response) if verdict.drop else response

        return gated

    def _refuse(self, request: Request) -> Response | None:
        key = request.headers.get("x-api-key", "")
        if not key:
            return error(401, "missing API key: send it in the x-api-key header")
        accepted = self.rt.config.api_keys
        # never echo the key, right or wrong: the message is the same for every bad key
        if accepted and not any(hmac.compare_digest(key.encode(), ok.encode()) for ok in accepted):
            return error(401, "invalid API key")
        wait = self.rt.limiter.wait_for(key)
        if wait > 0:
            seconds = retry_after(wait)
            return error(
                429, f"rate limit exceeded: retry after {seconds} s", headers={"Retry-After": seconds}
            )
        return None

    # -- the API ---------------------------------------------------------------------------

    async def submit(self, request: Request) -> Response:
        accepted = await self._accept(request, kind="async")
        if isinstance(accepted, Response):
            return accepted
        base = _origin(request)
        rid = accepted.request_id
        return JSONResponse(
            {
                "request_id": rid,
                "status": "QUEUED",
                "poll_url": f"{base}/v1/requests/{rid}",
                "status_url": f"{base}/v2/requests/{rid}/status",
                "response_url": f"{base}/v2/requests/{rid}",
            }
        )

    async def status(self, request: Request) -> Response:
        """The job's state; once it ended, its `error` and `metrics` too (no output)."""
        return self._tell_state(request, "status", output=False)

    async def poll(self, request: Request) -> Response:
        """`poll_url`: the same states as the v2 status, and the whole result once COMPLETED."""
        return self._tell_state(request, "poll", output=True)

    def _tell_state(self, request: Request, kind: str, *, output: bool) -> Response:
        """A job's state, noted as told (the emulator's traffic counts status reads)."""
        job = self._job(request, kind)
        if job is None:
            return _not_found(request)
        self.rt.traffic.told_status(job.request_id, job.status, self.rt.clock())
        return self._answer(request, job, output=output)

    async def result(self, request: Request) -> Response:
        job = self._job(request, "result")
        if job is None:
            return _not_found(request)
        return self._answer(request, job, output=True)

    def _answer(self, request: Request, job: Job, *, output: bool) -> Response:
        if job.status == FAILED:
            return _failed(job, status_code=self.rt.config.failed_status)
        body: dict[str, Any] = {"request_id": job.request_id, "status": job.status}
        if job.status == COMPLETED:
            body["error"] = None
            body["metrics"] = job.metrics()
            if output:
                body["output"] = self._output_url(request, job)
        return JSONResponse(body)

    async def sync(self, request: Request) -> Response:
        accepted = await self._accept(request, kind="sync")
        if isinstance(accepted, Response):
            return accepted
        job = await self.rt.finished(accepted)
        if job.status == FAILED or job.video is None:
            return _failed(job, status_code=422)
        metrics = job.metrics()
        headers = {
            "content-type": "video/mp4",
            "x-request-id": job.request_id,
            "etag": job.video.etag,
            "content-length": str(job.video.size),
            # a v1 answer is the video itself: Segmind sends its accounting as headers
            "x-cost": f"{job.cost_usd:g}",
            "x-generation-time": f"{metrics['inference_time']:g}",
        }
        return FileSlice(job.video.path, start=0, length=job.video.size, status_code=200, headers=headers)

    async def upload(self, request: Request) -> Response:
        body = await _json_object(request)
        if isinstance(body, Response):
            return body
        urls = body.get("data_urls")
        if not isinstance(urls, list) or not urls:
            return error(400, "data_urls must be a non-empty list of data:image/...;base64 URIs")
        try:
            assets = [self.rt.assets.add(url, label=f"data_urls[{i}]") for i, url in enumerate(urls)]
        except AssetRejected as rejected:
            return error(400, str(rejected))
        base = _origin(request)
        return JSONResponse(
            {
                "file_urls": [f"{base}/assets/{asset.name}" for asset in assets],
                "message": "Files uploaded successfully",
            }
        )

    async def output(self, request: Request) -> Response:
        if "x-api-key" in request.headers:
            self.rt.traffic.outputs_with_api_key += 1
        name: str = request.path_params["name"]
        job = self.rt.output_job(name.removesuffix(".mp4")) if name.endswith(".mp4") else None
        if job is not None:
            self.rt.traffic.concerns(job.request_id, "output")
        if job is None or job.video is None or job.status != COMPLETED:
            return error(404, f"no such output (or it expired: {_RETENTION_NOTE}): {name}")
        video = job.video
        headers = {"accept-ranges": "bytes", "etag": video.etag, "content-type": "video/mp4"}
        asked = request.headers.get("range")
        if_range = request.headers.get("if-range")
        if if_range is not None and if_range != video.etag:
            asked = None  # the file changed since the client's first part: send it all
        try:
            part = parse_range(asked, video.size)
        except Unsatisfiable:
            refused = {"accept-ranges": "bytes", "content-range": f"bytes */{video.size}"}
            return error(416, "range not satisfiable", headers=refused)
        if part is None:
            headers["content-length"] = str(video.size)
            return FileSlice(video.path, start=0, length=video.size, status_code=200, headers=headers)
        headers["content-length"] = str(part.length)
        headers["content-range"] = part.content_range(video.size)
        return FileSlice(video.path, start=part.start, length=part.length, status_code=206, headers=headers)

    async def asset(self, request: Request) -> Response:
        asset = self.rt.assets.get(request.path_params["name"])
        if asset is None:
            return error(404, f"no such asset: {request.path_params['name']}")
        size = asset.path.stat().st_size
        headers = {"content-type": asset.mime, "content-length": str(size), "etag": f'"{asset.sha256[:32]}"'}
        return FileSlice(asset.path, start=0, length=size, status_code=200, headers=headers)

    # -- the request history -----------------------------------------------------------------

    async def history_page(self, request: Request) -> Response:
        """`GET /inference-request/request-history`: the caller's requests, a page of them."""
        today = datetime.fromtimestamp(self.rt.clock(), timezone.utc).date()
        self.rt.tick()
        try:
            page = self.rt.history.page(
                _owner(request), request.query_params, lambda job: self._output_url(request, job), today=today
            )
        except BadQuery as bad:
            return error(400, str(bad))
        return JSONResponse(page)

    async def history_row(self, request: Request) -> Response:
        """`GET /inference-request/request-history/{id}`: one of the caller's requests, of any age."""
        self.rt.tick()
        rid: str = request.path_params["request_id"]
        found = self.rt.history.get(_owner(request), rid, lambda job: self._output_url(request, job))
        if found is None:
            return error(404, f"request not found: {rid}")
        return JSONResponse(found)

    # -- emulator control (no key: it is not part of the emulated API) --------------------

    async def stats(self, request: Request) -> Response:
        return JSONResponse(self.rt.stats())

    async def configure(self, request: Request) -> Response:
        # Only a JSON body: a web page can send a form or text/plain POST to 127.0.0.1 with
        # no CORS preflight, and must not be able to reconfigure (or disarm) the emulator.
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            return error(415, "the emulator's config takes a JSON body (Content-Type: application/json)")
        changes = await _json_object(request, limit=MAX_CONFIG_BODY)
        if isinstance(changes, Response):
            return changes
        try:
            config = self.rt.configure(changes)
        except (TypeError, ValueError) as problem:
            return error(400, str(problem))
        return JSONResponse({"config": config.public()})

    async def about(self, request: Request) -> Response:
        models = listing(self.rt.config)
        return JSONResponse(
            {
                "emulator": "sora-widget",
                "version": __version__,
                "synthetic": True,
                "models": models["served"],
                "retired_models": models["retired"],
                "endpoints": [
                    "POST /v2/{model}",
                    "GET /v2/requests/{id}/status",
                    "GET /v2/requests/{id}",
                    "GET /v1/requests/{id}",
                    "POST /v1/{model}",
                    "POST /upload-asset",
                    f"GET {HISTORY_PATH}",
                    f"GET {HISTORY_PATH}/{{id}}",
                ],
            }
        )

    # -- helpers ---------------------------------------------------------------------------

    async def _accept(self, request: Request, *, kind: str) -> Job | Response:
        """Model, body and credits checked, then the job created; or the refusal."""
        model: str = request.path_params["model"]
        refused = refusal(model, self.rt.config)
        if refused is not None:
            status, message, extra = refused
            return error(status, message, **extra)
        body = await _json_object(request)
        if isinstance(body, Response):
            return body
        try:
            params = from_payload(model, body)
            owner = key_digest(request.headers.get("x-api-key", ""))
            return self.rt.submit(params, kind=kind, model=model, owner=owner, body=body)
        except InvalidParams as invalid:
            return error(400, str(invalid))
        except OutOfCredits as short:
            return error(406, str(short))

    def _job(self, request: Request, endpoint: str, request_id: str | None = None) -> Job | None:
        rid = request_id if request_id is not None else request.path_params["request_id"]
        job = self.rt.job(rid)
        if job is not None:
            self.rt.traffic.concerns(rid, endpoint)
        return job

    def _output_url(self, request: Request, job: Job) -> str:
        if self.rt.config.separate_output_host:
            host = request.url.hostname or self.rt.config.host
            host = f"[{host}]" if ":" in host else host
            base = f"{request.url.scheme}://{host}:{self.rt.config.output_port}"
        else:
            base = _origin(request)
        return f"{base}/outputs/{job.request_id}.mp4"


#: where Segmind's request history lives on its host (the SDK's REQUEST_HISTORY_URL's path)
HISTORY_PATH = "/inference-request/request-history"


def _owner(request: Request) -> str:
    """Whose history a request reads: its key's (the gate let only keyed requests in)."""
    return key_digest(request.headers.get("x-api-key", ""))


#: the largest request body the API endpoints read: a reference image (at most
#: MAX_REFERENCE_BYTES) as a base64 data URI inside a JSON body, with room to spare
MAX_API_BODY = MAX_REFERENCE_BYTES * 4 // 3 + 1024 * 1024
#: the largest body of a config change (a few knobs)
MAX_CONFIG_BODY = 64 * 1024


class _TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The request body, read no further than `limit` bytes (`_TooLarge` beyond): a
    client cannot make the emulator hold an unbounded body in memory."""
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_object(request: Request, *, limit: int = MAX_API_BODY) -> dict[str, Any] | Response:
    try:
        raw = await _body(request, limit)
    except _TooLarge:
        return error(413, f"the request body is larger than {limit} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return error(400, "the request body must be a JSON object")
    return body


def _origin(request: Request) -> str:
    """Scheme and host as the client addressed us (its Host header), for absolute URLs."""
    return f"{request.url.scheme}://{request.url.netloc}"


def _not_found(request: Request) -> Response:
    rid = request.path_params["request_id"]
    return error(404, f"request not found: {rid} (unknown, or expired: {_RETENTION_NOTE})")


def _failed(job: Job, *, status_code: int) -> Response:
    """A FAILED job: the reason and the timings (no cost: nothing was charged), served as
    422 as Segmind does — or as 200, the other form a FAILED status may take."""
    return JSONResponse(
        {
            "request_id": job.request_id,
            "status": FAILED,
            "error": job.failure or "the generation failed",
            "metrics": job.metrics(),
        },
        status_code=status_code,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    return error(status, f"{detail}: {request.method} {request.url.path}")


_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    404: _http_error,
    405: _http_error,
}
