"""Running the emulator: uvicorn on sockets we bind ourselves, in-process or from the CLI.

Binding first means the port is known before the server starts (port 0 picks a free
one) and connections queue in the backlog while uvicorn starts up. Each emulator gets
its own thread and event loop, so a test session can run many side by side. uvicorn
never installs signal handlers here: a handle stops through `stop()`, the command line
through its own handlers — either way the same orderly shutdown runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from .app import create_app, create_output_app
from .config import EmulatorConfig, from_options
from .responses import quiet_deliberate_drops
from .runtime import Runtime

_STARTUP_TIMEOUT = 30.0
_CALL_TIMEOUT = 30.0


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # whoever runs the emulator decides how it stops; uvicorn must not take SIGINT
        yield


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only disables Nagle (TCP_NODELAY) on sockets that
    # say they are TCP, and without it every small answer waits ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def url_for(host: str, port: int) -> str:
    """A URL a client can use: a wildcard bind is reached through loopback."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Serving:
    """The bound sockets of one emulator, and the coroutine that serves them."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._sockets = [bind(config.host, config.port)]
        if config.separate_output_host:
            self._sockets.append(bind(config.host, config.output_port))
        ports = [sock.getsockname()[1] for sock in self._sockets]
        self.config = dataclasses.replace(
            config, port=ports[0], output_port=ports[-1] if len(ports) > 1 else 0
        )
        self.base_url = url_for(config.host, ports[0])
        self.output_base_url = url_for(config.host, ports[-1])
        self.runtime: Runtime | None = None
        self.final_stats: dict[str, Any] | None = None

    async def run(self, ready: Callable[[], None], stop: asyncio.Event) -> None:
        """Serve until `stop` is set; `ready()` runs once connections are accepted."""
        quiet_deliberate_drops()
        runtime = self.runtime = Runtime(self.config)
        apps = [create_app(runtime=runtime)]
        if self.config.separate_output_host:
            apps.append(create_output_app(runtime))
        servers = [_Server(_uvicorn_config(app)) for app in apps]
        tasks = [
            asyncio.create_task(s.serve(sockets=[sock]))
            for s, sock in zip(servers, self._sockets, strict=True)
        ]
        try:
            while not all(server.started for server in servers):
                for task in tasks:
                    if task.done():
                        task.result()  # a server that died while starting: raise why
                        raise RuntimeError("the emulator's server stopped while starting")
                await asyncio.sleep(0.005)
            runtime.ensure_running()
            ready()
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
        finally:
            for server in servers:
                server.should_exit = True
            await asyncio.gather(*tasks, return_exceptions=True)
            self.final_stats = runtime.stats()
            await runtime.aclose()
            for sock in self._sockets:
                sock.close()

    def close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()


def _uvicorn_config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        loop="asyncio",
        http="h11",
        lifespan="off",
        # leave the host process's logging alone (a notebook's, a test runner's)
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        # idle keep-alive connections stay open as long as a hosted API's do (uvicorn's 5 s
        # closes one now and then just as a client sends on it, which a client of the real
        # API rarely meets)
        timeout_keep_alive=60,
    )


class Emulator:
    """A running emulator: `.base_url`, `.stats()`, `.configure()`, `.stop()`."""

    def __init__(self, serving: Serving) -> None:
        self._serving = serving
        self.config = serving.config
        self.base_url = serving.base_url
        #: where `output` URLs point: another origin with `separate_output_host`
        self.output_base_url = (
            serving.output_base_url if serving.config.separate_output_host else serving.base_url
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(
            target=self._main, name=f"sora-emulator-{self.config.port}", daemon=True
        )

    def _start(self) -> None:
        self._thread.start()
        if not self._ready.wait(_STARTUP_TIMEOUT):
            # the thread is a daemon: a server stuck in start-up cannot keep Python alive
            self._stopped = True
            raise RuntimeError(f"the emulator did not start within {_STARTUP_TIMEOUT:.0f} s")
        if self._error is not None:
            self._thread.join()
            raise RuntimeError("the emulator failed to start") from self._error

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            await self._serving.run(self._ready.set, self._stop_event)

        try:
            asyncio.run(main())
        except BaseException as error:  # reported to start(), which is waiting for us
            self._error = error
        finally:
            self._serving.close_sockets()
            self._ready.set()

    @property
    def data_dir(self) -> Path:
        """Where rendered clips and uploads are kept (a temporary one is removed on stop)."""
        runtime = self._serving.runtime
        assert runtime is not None, "the emulator has not started"
        return runtime.data_dir

    def _call(self, action: Callable[[Runtime], Any]) -> Any:
        """Run `action` on the emulator's loop (its state belongs to that thread)."""
        loop, runtime = self._loop, self._serving.runtime
        if loop is None or runtime is None or self._stopped:
            raise RuntimeError("the emulator is not running")

        async def call() -> Any:
            return action(runtime)

        return asyncio.run_coroutine_threadsafe(call(), loop).result(_CALL_TIMEOUT)

    def stats(self) -> dict[str, Any]:
        """Request counts, jobs, chaos and render figures (see `GET /_emulator/stats`)."""
        if self._stopped and self._serving.final_stats is not None:
            return self._serving.final_stats
        result: dict[str, Any] = self._call(lambda runtime: runtime.stats())
        return result

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Change run-time knobs (latency, chaos, credits, rate limit, …) while running."""
        config: EmulatorConfig = self._call(lambda runtime: runtime.configure(changes))
        self.config = config
        return config

    def stop(self) -> None:
        """Stop serving, wait for the thread and remove the temporary cache (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended on its own meanwhile
                loop.call_soon_threadsafe(event.set)
        self._thread.join()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<Emulator {self.base_url} ({state})>"


def start(host: str = "127.0.0.1", port: int = 0, **options: Any) -> Emulator:
    """Start an emulator on a background thread; returns once it accepts connections."""
    emulator = Emulator(Serving(from_options({"host": host, "port": port, **options})))
    emulator._start()
    return emulator
