"""Drive a real JupyterLab 4 or Notebook 7 in headless Chromium.

    server = JupyterServer("lab", root_dir, env={...}).start()
    page = NotebookPage.open(browser_page, server, "demo.ipynb", cells=["import sora_widget as sw"])
    page.run_cell(0)                      # Shift+Enter in the real UI, waits for the kernel
    page.output(0)                        # a Locator on the cell's output area
    page.save(); page.saved_notebook()    # what is on disk
    server.stop()

Readiness is judged from the app itself (`window.jupyterapp`, exposed with
expose_app_in_browser): the notebook's kernel must be connected and idle. The toolbar's
idle indicator alone can read "idle" before the kernel connects.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nbformat
from playwright.sync_api import Locator, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORT = {"width": 1280, "height": 900}


_http: httpx.Client | None = None


def http() -> httpx.Client:
    """One client for the harness's calls to the server: `httpx.get` builds a client, and
    with it an SSL context (tens of milliseconds of CPU), per call — a start polled every
    0.2 s for a minute under load spent seconds on that alone."""
    global _http
    if _http is None:
        _http = httpx.Client()
    return _http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_Host = TypeVar("_Host", bound="HostServer")


class HostServer:
    """A server process (Jupyter, Voilà, marimo) on 127.0.0.1 with a token of its own, its
    state and log beside `root_dir`. Voilà's and marimo's token reaches the server in a file
    only its owner reads, not on its command line (which `ps` shows anyone). Stopped by its
    PID, then the processes it started by theirs: a SIGTERM to marimo leaves its session
    processes running, and a kernel left behind would keep its embedded emulator's threads."""

    name = "host"
    #: seconds a start may take: with every test worker busy on 2 cores, Jupyter has taken over 60
    start_timeout = 120.0

    def __init__(self, root_dir: Path, env: dict[str, str] | None = None) -> None:
        self.root_dir = root_dir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = env or {}
        self.state = root_dir.parent / f"{self.name}-state-{self.port}"
        self.log_path = root_dir.parent / f"{self.name}-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready_url(self) -> str:
        raise NotImplementedError

    def prepare(self, env: dict[str, str]) -> None:
        """Write what the server reads at start (its token) and say where, in `env`."""

    def private_file(self, name: str, text: str) -> Path:
        """A new file of the state folder that only this user may read."""
        path = self.state / name
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        return path

    def start(self: _Host, timeout: float | None = None) -> _Host:
        timeout = self.start_timeout if timeout is None else timeout
        self.state.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(self.env)
        env.pop("JUPYTER_CONFIG_DIR", None)
        self.prepare(env)
        env["JUPYTER_RUNTIME_DIR"] = str(self.state / "runtime")
        # marimo's settings and state (and anything else that follows XDG) stay in the test's folder
        env["XDG_CONFIG_HOME"] = str(self.state / "config")
        env["XDG_STATE_HOME"] = str(self.state / "state")
        env["XDG_CACHE_HOME"] = str(self.state / "cache")
        env["MARIMO_SKIP_UPDATE_CHECK"] = "1"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            self.command(), cwd=self.root_dir, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()}")
            try:
                ready = http().get(self.ready_url(), timeout=2).is_success
            except httpx.HTTPError:
                ready = False
            if ready:
                # the token is in force: a page asked for without it (and without the cookie
                # the shared client now holds) is refused or sent to log in
                if httpx.get(f"{self.base_url}/", timeout=10).status_code == 200:
                    self.stop()
                    raise RuntimeError(f"{self.name} serves its pages without the token")
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not start in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self._proc is None:
            return
        import psutil

        try:
            started = psutil.Process(self._proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            started = []
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        for child in started:
            try:
                child.terminate()
            except psutil.NoSuchProcess:
                continue
        _, alive = psutil.wait_procs(started, timeout=10)
        for child in alive:
            child.kill()
        self._proc = None
        self._log.close()


class JupyterServer(HostServer):
    """A jupyter-server process with JupyterLab ("lab") or Notebook 7 ("notebook")."""

    start_timeout = 180.0

    def __init__(self, flavour: str, root_dir: Path, env: dict[str, str] | None = None) -> None:
        if flavour not in ("lab", "notebook"):
            raise ValueError(flavour)
        self.flavour = flavour
        self.name = f"jupyter-{flavour}"
        super().__init__(root_dir, env)

    def command(self) -> list[str]:
        app = "LabApp" if self.flavour == "lab" else "JupyterNotebookApp"
        # Notebook 7's pages read settings from JupyterLab's server extension, loaded beside it:
        # told only of its own folders, they read (and wrote) the user's ~/.jupyter instead
        settings_apps = dict.fromkeys((app, "LabApp"))
        return [
            sys.executable,
            "-m",
            "jupyter",
            self.flavour,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.allow_root=True",
            "--ServerApp.disable_check_xsrf=True",
            f"--{app}.expose_app_in_browser=True",
            *(f"--{name}.user_settings_dir={self.state / 'settings'}" for name in settings_apps),
            *(f"--{name}.workspaces_dir={self.state / 'workspaces'}" for name in settings_apps),
            # offline: no news feed, no update check, no extension manager queries
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabServerApp.extension_manager=readonly",
        ]

    def prepare(self, env: dict[str, str]) -> None:
        for sub in ("settings", "workspaces", "runtime"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        # no "get notified about Jupyter news?" toast over the page (and no fetch for it)
        notification = self.state / "settings" / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True, exist_ok=True)
        (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        # a steady cursor: a blinking one is an animation Chromium draws frames for in every
        # editor of every open notebook, whether or not it has focus (~0.06 CPU-s a second)
        editor = self.state / "settings" / "@jupyterlab" / "codemirror-extension"
        editor.mkdir(parents=True, exist_ok=True)
        (editor / "plugin.jupyterlab-settings").write_text('{"defaultConfig": {"cursorBlinkRate": 0}}')

    def ready_url(self) -> str:
        return f"{self.base_url}/api/status?token={self.token}"

    def url(self, notebook: str) -> str:
        if self.flavour == "lab":
            # ?reset: a fresh workspace, so no earlier test's documents are restored
            return f"{self.base_url}/lab/tree/{notebook}?reset&token={self.token}"
        return f"{self.base_url}/notebooks/{notebook}?token={self.token}"

    def shutdown_kernels(self) -> None:
        """Stop every kernel (keeps the server), so the next test starts clean."""
        params = {"token": self.token}
        sessions = http().get(f"{self.base_url}/api/sessions", params=params, timeout=10).json()
        for session in sessions:
            http().delete(
                f"{self.base_url}/api/sessions/{session['id']}", params={"token": self.token}, timeout=30
            )


# Finds our notebook's panel by path: JupyterLab may restore other documents around it.
_PANEL = """(name) => {
  const app = window.jupyterapp;
  if (!app) { return null; }
  for (const widget of app.shell.widgets('main')) {
    if (widget.context && widget.context.path === name && widget.content) { return widget; }
  }
  return null;
}"""


def _js(source: str) -> str:
    """Inline the panel finder where a script says FIND_PANEL."""
    return source.replace("FIND_PANEL", f"({_PANEL})")


_KERNEL_READY = _js(
    """(name) => {
  const panel = FIND_PANEL(name);
  const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'
    && !!panel.content.model;
}"""
)

_CELL_DONE = _js(
    """([name, index]) => {
  const panel = FIND_PANEL(name);
  const cell = panel.content.widgets[index];
  const kernel = panel.sessionContext.session.kernel;
  const count = cell.model.executionCount;
  return count !== null && count !== undefined && cell.model.executionState !== 'running'
    && !cell.node.querySelector('.jp-InputArea-prompt').textContent.includes('*')
    && kernel.status === 'idle';
}"""
)


class AppPage:
    """One page kept open from test to test, in either flavour. In JupyterLab each test opens its
    notebook in the app that is already running, as a person does, instead of loading JupyterLab
    again (a load costs Chromium some 8 CPU-seconds). Notebook 7 shows one notebook per page:
    each test takes the same page to its notebook's address, as a person follows a link, and the
    renderer that has run the app before loads it again for ~4 CPU-s, where a new page took ~7."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.context: Any = None
        self.page: Page | None = None

    def take(self) -> Page:
        if self.page is None or self.page.is_closed():
            # as a user who asks for less motion: the widget's progress bars then move in steps
            # instead of gliding, which in Chromium's software rendering drew 60 frames a second
            # for as long as a job ran (0.09 CPU-s a second more than an idle page)
            self.context = self.browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
            self.page = self.context.new_page()
        self.page.set_viewport_size(VIEWPORT)
        return self.page

    def give_back(self, *, reusable: bool) -> None:
        """Close the test's documents (without asking to save them: the test saved what it
        needed), so that none is open when its kernel stops; after a failure the page may be in
        any state, so the next test gets a new one."""
        if self.page is not None and reusable:
            try:
                self.page.evaluate(_CLOSE_DOCUMENTS)
                return
            except Exception:  # whatever broke, a new page is the cure
                pass
        self.close()

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
        self.context = self.page = None


# A command's result is not returned from the page: `docmanager:open` resolves to the notebook's
# widget, which Playwright would serialise whole (megabytes per call, walked by Chromium, the
# driver and Python's protocol validation: 3.3 CPU-s of Python alone for six tests).
_EXECUTE = "async ([command, args]) => { await window.jupyterapp.commands.execute(command, args); }"

# Disposing a document's widget closes it without the "save your changes?" dialog.
_CLOSE_DOCUMENTS = """() => {
  for (const widget of Array.from(window.jupyterapp.shell.widgets('main'))) { widget.dispose(); }
  for (const dialog of Array.from(document.querySelectorAll('.jp-Dialog'))) { dialog.remove(); }
}"""


class NotebookPage:
    """One notebook opened in the real UI of either flavour."""

    def __init__(self, page: Page, server: JupyterServer, name: str) -> None:
        self.page = page
        self.server = server
        self.name = name
        self.path = server.root_dir / name

    @classmethod
    def open(
        cls,
        page: Page,
        server: JupyterServer,
        name: str,
        cells: list[str],
        *,
        timeout: float = 90_000,
        notebook: Any = None,
    ) -> NotebookPage:
        """Write the notebook (code cells of `cells`, or a whole `notebook` an nbformat
        node, as saved with outputs and metadata) and open it in the app."""
        nb = notebook if notebook is not None else nbformat.v4.new_notebook()
        if notebook is None:
            nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, server.root_dir / name)
        notebook = cls(page, server, name)
        if server.flavour == "lab" and page.url.startswith(f"{server.base_url}/lab"):
            # the app is running: open the notebook in it (AppPage)
            page.evaluate(_EXECUTE, ["docmanager:open", {"path": name}])
        else:
            page.goto(server.url(name))
        # polled, not on every animation frame: rAF polling has Chromium produce frames for as
        # long as the kernel takes to start (0.1 CPU-s a second of both cores' budget)
        page.wait_for_function(_KERNEL_READY, arg=name, timeout=timeout, polling=100)
        if server.flavour == "lab":
            # JupyterLab's status bar says "| Idle" only once the kernel is really there
            page.get_by_text("| Idle").first.wait_for(timeout=timeout)
        return notebook

    # -- cells ----------------------------------------------------------------------------------

    def cell(self, index: int) -> Locator:
        # the notebook panel that is visible: ours (the harness opened it last)
        return self.page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)

    def output(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-OutputArea")

    def run_cell(self, index: int, *, wait: bool = True, timeout: float = 120_000) -> None:
        """Select the cell and press Shift+Enter, as a person would."""
        self.page.evaluate(
            _js("""([name, index]) => {
              const panel = FIND_PANEL(name);
              panel.content.activeCellIndex = index;
              panel.content.mode = 'command';
              panel.content.node.focus();
            }"""),
            [self.name, index],
        )
        self.cell(index).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Shift+Enter")
        if wait:
            self.wait_cell(index, timeout=timeout)

    def wait_cell(self, index: int, *, timeout: float = 120_000) -> None:
        self.page.wait_for_function(_CELL_DONE, arg=[self.name, index], timeout=timeout, polling=100)

    def set_source(self, index: int, source: str) -> None:
        self.page.evaluate(
            _js("""([name, index, source]) => {
              FIND_PANEL(name).content.widgets[index].model.sharedModel.setSource(source);
            }"""),
            [self.name, index, source],
        )

    def output_text(self, index: int) -> str:
        return self.output(index).inner_text()

    # -- the notebook on disk ----------------------------------------------------------------------

    def save(self, timeout: float = 30.0) -> dict[str, Any]:
        """Save as the menu does and return what is on disk once the saved notebook is the
        open one. An output that changes while a save is written (a record's last update
        lands a moment after COMPLETED shows) leaves the notebook dirty: save again."""
        save = _js("(name) => FIND_PANEL(name).context.save()")
        dirty = _js("(name) => FIND_PANEL(name).context.model.dirty")
        before = self.path.stat().st_mtime_ns
        self.page.evaluate(save, self.name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.path.stat().st_mtime_ns != before:
                if not self.page.evaluate(dirty, self.name):
                    return self.saved_notebook()
                before = self.path.stat().st_mtime_ns
                self.page.evaluate(save, self.name)
            time.sleep(0.1)
        dialogs = self.page.locator(".jp-Dialog").all_inner_texts()
        state = (
            "changed on disk, still dirty" if self.path.stat().st_mtime_ns != before else "unchanged on disk"
        )
        raise AssertionError(f"{self.name} was not saved within {timeout} s ({state}; dialogs: {dialogs})")

    def saved_notebook(self) -> dict[str, Any]:
        return json.loads(self.path.read_text())

    def shutdown_kernel(self) -> None:
        """Shut the notebook's kernel down as its menu does (no dialog), and wait until it is
        gone: the notebook stays open, with no kernel."""
        self.page.evaluate(_js("(name) => FIND_PANEL(name).sessionContext.shutdown()"), self.name)
        gone = _js("(name) => !FIND_PANEL(name).sessionContext.session")
        self.page.wait_for_function(gone, arg=self.name, timeout=30_000, polling=100)

    def run_command(self, command: str, args: dict[str, Any] | None = None) -> None:
        self.page.evaluate(_EXECUTE, [command, args or {}])

    def set_theme(self, dark: bool) -> None:
        theme = "JupyterLab Dark" if dark else "JupyterLab Light"
        self.run_command("apputils:change-theme", {"theme": theme})
        self.page.wait_for_function(
            "(dark) => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')",
            arg=dark,
            timeout=30_000,
            polling=100,
        )
        # the theme switch shows a splash screen over the page until the new CSS is in
        self.page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=30_000)
        self.page.wait_for_timeout(300)  # one more frame for transitions to settle in the picture


AXE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page, selector: str) -> list[dict[str, Any]]:
    """What axe-core (js/node_modules, a dev dependency of the widget) finds wrong under
    `selector`, each violation with its rule id and the nodes' HTML."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async (selector) => {
          const where = document.querySelector(selector);
          const result = await window.axe.run(where, {resultTypes: ['violations']});
          return result.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.html)}));
        }""",
        selector,
    )
    return found


# -- other hosts: Voilà and marimo ----------------------------------------------------------------


class VoilaServer(HostServer):
    """Voilà 0.5 serving the notebooks of `root_dir` as dashboards: each page load executes its
    notebook in a new kernel, started in `root_dir`."""

    name = "voila"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "voila",
            str(self.root_dir),
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            f"--Voila.port={self.port}",
            "--Voila.port_retries=0",
            "--VoilaConfiguration.show_tracebacks=True",
        ]

    def prepare(self, env: dict[str, str]) -> None:
        # Voilà reads voila.json from the Jupyter config folder (and from its working folder,
        # the notebooks': not there)
        config = self.private_file("jupyter-config/voila.json", json.dumps({"Voila": {"token": self.token}}))
        env["JUPYTER_CONFIG_DIR"] = str(config.parent)

    def ready_url(self) -> str:
        return f"{self.base_url}/?token={self.token}"

    def url(self, notebook: str) -> str:
        return f"{self.base_url}/voila/render/{notebook}?token={self.token}"


class MarimoServer(HostServer):
    """`marimo run` serving one notebook (a .py file in `root_dir`) as an app: each page is a
    session with a kernel of its own, working in `root_dir`."""

    name = "marimo"

    def __init__(self, root_dir: Path, notebook: str, env: dict[str, str] | None = None) -> None:
        super().__init__(root_dir, env)
        self.notebook = notebook

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "marimo",
            "run",
            self.notebook,
            "--headless",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--token-password-file",
            str(self.state / "token"),
            "--no-sandbox",
        ]

    def prepare(self, env: dict[str, str]) -> None:
        self.private_file("token", self.token)

    def ready_url(self) -> str:
        return f"{self.base_url}/health"

    def url(self) -> str:
        return f"{self.base_url}/?access_token={self.token}"


class HostPage:
    """A page of another host, in a context of its own: the problems it logs are collected
    (console errors with where they came from, uncaught errors), and every request for
    anything outside 127.0.0.1 is answered empty on the spot — Voilà's template links Font
    Awesome from a CDN — so that no traffic leaves loopback."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
        self.context.route(_outside_loopback, _answer_empty)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            where = (message.location or {}).get("url", "")
            self.errors.append(f"{message.text} (at {where})")

    def close(self) -> None:
        self.context.close()


def _outside_loopback(url: str) -> bool:
    return not url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:"))


def _answer_empty(route: Any) -> None:
    route.fulfill(status=200, body="", content_type="text/css")
