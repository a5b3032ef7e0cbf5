"""The client's HTTP pools and TLS settings: made once, shared where they can be."""

from __future__ import annotations

import asyncio
import functools
import ssl

import httpx

from .._version import __version__


async def prepare_tls() -> None:
    """Load the default TLS roots in a thread, if no client has yet: a kernel's first job
    would otherwise spend those ~40 ms on its loop."""
    if default_tls.cache_info().currsize == 0:
        await asyncio.to_thread(default_tls)


@functools.cache
def default_tls() -> ssl.SSLContext:
    """httpx's default TLS settings (certifi's roots), made once per process: loading the roots
    takes some 40 ms of CPU, which every client (a script or a test suite makes many) would
    otherwise spend again. Contexts are safe to share between clients and threads."""
    return httpx.create_ssl_context()


def http_client(request_timeout: float, connections: int, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """A pool of `connections`: as many as the client's slots let through at once."""
    return httpx.AsyncClient(
        verify=tls,
        timeout=httpx.Timeout(request_timeout, connect=10.0),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        headers={"user-agent": f"sora-widget/{__version__}"},
    )
