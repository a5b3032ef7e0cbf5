"""Voilà 0.5 shows a notebook as a dashboard: it executes the notebook itself and sends the
page each output once, rendered, so an output updated by its display id never changes there.
The widget's record output is then the view's own (views.ClipView), and must follow the
job live; the notebook extension's renderer stands alone (no notebook, no tracker), and the
page logs no error of ours.

One Voilà server for the module, on 127.0.0.1 with a token; the dashboard's kernel uses
the embedded emulator (`sw.connect()`, no key). Two clips: one made while the page
executes (its record drawn by the extension's renderer), one by the widget's Generate."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from .harness import HostPage, VoilaServer

NAME = "dashboard.ipynb"
CELLS = [
    "import sora_widget as sw\n\n_ = sw.connect(latency=1.0)",
    'clip = sw.generate("A lighthouse at dusk", duration=4, size="landscape")\nclip',
    'widget = sw.SoraWidget(prompt="A paper boat on a pond", duration=4, size="landscape")\nwidget',
]
#: the one error another package logs on Voilà's page: Notebook 7's own extension (installed
#: beside JupyterLab) cannot load in the JupyterLab 4.2 that Voilà 0.5.13 bundles
FOREIGN = re.compile(r"/voila/labextensions/@jupyter-notebook/lab-extension/static/")


@pytest.fixture(scope="module", autouse=True)
def outputs_per_module() -> None:
    """Not the package's (which empties a Jupyter server's folder): this module's server and
    folder are its own."""


@pytest.fixture(scope="module")
def host_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoilaServer]:
    root = tmp_path_factory.mktemp("voila-root")
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / NAME)  # type: ignore[no-untyped-call]
    # no key: sw.connect() starts the emulator in the dashboard's kernel
    env = {"SEGMIND_API_KEY": "", "SEGMIND_BASE_URL": "", "SORA_WIDGET_OUTPUT_DIR": "sora-outputs"}
    server = VoilaServer(root, env=env).start()
    yield server
    server.stop()


def test_the_record_output_follows_the_job_live_in_voila(
    host_server: VoilaServer, host_page: HostPage
) -> None:
    page = host_page.page
    page.goto(host_server.url(NAME))
    widget = page.locator(".sora-widget")
    generate = widget.get_by_role("button", name="Generate")
    expect(generate).to_be_visible(timeout=120_000)

    # the clip the page's execution made: its record drawn by the notebook extension's renderer,
    # which activated with no notebook on the page
    made = page.locator(".sora-widget-records")
    expect(made).to_have_count(1)
    expect(made).to_contain_text("COMPLETED")
    expect(made).to_contain_text("A lighthouse at dusk")
    # Voilà serves no files: the renderer shows the poster the record carries, and says why
    expect(made.locator(".sora-widget-record-missing img.sora-widget-record-poster")).to_be_visible()
    expect(made).to_contain_text("cannot be played here (it is not on this machine, or this page serves no")

    # the widget's record output is the view's own: no stale output beside it
    record = page.locator(".sora-widget-record-output")
    expect(record).to_have_count(1)
    expect(record).to_contain_text("no generations yet")

    generate.click()
    request_id = widget.locator(".sw-request-id").first
    expect(request_id).to_have_text(re.compile(r"\S{8,}"), timeout=60_000)
    expect(record.locator('.sw-status[data-status="COMPLETED"]')).to_be_visible(timeout=60_000)
    expect(record).to_contain_text(f"request {request_id.inner_text()}")
    expect(record).to_contain_text("A paper boat on a pond")
    # the record names the file the kernel saved, by its checksum, and shows its poster frame
    saved = [p for p in Path(host_server.root_dir, "sora-outputs").glob("*.mp4") if "paper-boat" in p.name]
    assert len(saved) == 1, saved
    expect(record).to_contain_text(hashlib.sha256(saved[0].read_bytes()).hexdigest()[:12])
    poster = record.locator("img.sw-record-poster")
    expect(poster).to_have_attribute("src", re.compile("^data:image/jpeg;base64,"))

    # and the clip plays in the widget
    video = widget.locator("video").first
    page.wait_for_function("v => v.readyState >= 2", arg=video.element_handle(), timeout=60_000, polling=100)

    ours = [e for e in host_page.errors if not FOREIGN.search(e)]
    assert ours == [], ours
