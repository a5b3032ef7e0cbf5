"""marimo runs notebooks stored as .py files, with anywidget support of its own: the example
notebook (notebooks/marimo_quickstart.py) served by `marimo run` makes a clip that plays in
the widget, with its record drawn under it (marimo shows what a cell returns, so the record
output is the view's own), and runs a two-item batch shown as a gallery (not the terminal's
text bar).

One `marimo run` server for the module, on 127.0.0.1 with a token; the page's kernel uses
the embedded emulator (`sw.connect()`, no key)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sora_widget.notebook import read_records
from sora_widget.report import export

from .harness import HostPage, MarimoServer

EXAMPLE = Path(__file__).resolve().parents[2] / "notebooks" / "marimo_quickstart.py"
#: the example's batch, in order
BATCH = ("A lighthouse at dusk, waves against the rocks", "A kite over a windy beach")
#: the widget's prompt in the example
PROMPT = "A paper boat drifting down a rainy street at dusk"


@pytest.fixture(scope="module", autouse=True)
def outputs_per_module() -> None:
    """Not the package's (which empties a Jupyter server's folder): this module's server and
    folder are its own."""


@pytest.fixture(scope="module")
def host_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarimoServer]:
    root = tmp_path_factory.mktemp("marimo-root")
    shutil.copy(EXAMPLE, root / EXAMPLE.name)
    # no key: sw.connect() starts the emulator in the page's kernel
    env = {"SEGMIND_API_KEY": "", "SEGMIND_BASE_URL": "", "SORA_WIDGET_OUTPUT_DIR": "sora-outputs"}
    server = MarimoServer(root, EXAMPLE.name, env=env).start()
    yield server
    server.stop()


def test_a_clip_plays_with_its_record_and_a_batch_shows_its_gallery_in_marimo(
    host_server: MarimoServer, host_page: HostPage
) -> None:
    page = host_page.page
    page.goto(host_server.url())
    widget = page.locator(".sora-widget").first
    generate = widget.get_by_role("button", name="Generate")
    expect(generate).to_be_visible(timeout=120_000)
    expect(page.get_by_text("using the local emulator").first).to_be_visible()

    record = page.locator(".sora-widget-record-output").first
    expect(record).to_contain_text("no generations yet")
    generate.click()
    request_id = widget.locator(".sw-request-id").first
    expect(request_id).to_have_text(re.compile(r"\S{8,}"), timeout=60_000)
    expect(record.locator('.sw-status[data-status="COMPLETED"]')).to_be_visible(timeout=60_000)
    expect(record).to_contain_text(f"request {request_id.inner_text()}")
    poster = record.locator("img.sw-record-poster")
    expect(poster).to_have_attribute("src", re.compile("^data:image/jpeg;base64,"))

    # the clip plays: the <video> has the clip's bytes (a blob the kernel sent) and runs
    video = widget.locator("video").first
    expect(video).to_have_attribute("src", re.compile("^blob:"), timeout=60_000)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(
        "v => v.readyState >= 2 && !v.paused && v.currentTime > 0",
        arg=video.element_handle(),
        timeout=30_000,
        polling=100,
    )

    # a batch of two: its gallery (where marimo was not known as a frontend with widgets, a
    # text bar went to stderr instead), counted by the kernel, and both records under it
    page.get_by_role("button", name="Make two clips").click()
    batch = page.locator('.sora-widget[data-mode="batch"]')
    expect(batch).to_be_visible(timeout=60_000)
    bar = batch.get_by_role("progressbar", name="Batch progress")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=90_000)
    expect(batch.get_by_text("2 of 2 done · 2 completed", exact=True)).to_be_visible()
    items = batch.locator(".sw-gallery-list > li")
    expect(items).to_have_count(2)
    for i, prompt in enumerate(BATCH):
        expect(items.nth(i)).to_contain_text(prompt)
        expect(items.nth(i)).to_have_attribute("data-status", "COMPLETED")
    # a finished item plays when chosen (clips are fetched only then)
    items.nth(1).get_by_role("button").click()
    expect(batch.locator(".sw-stage video")).to_have_attribute("src", re.compile("^blob:"), timeout=30_000)
    batch_record = page.locator(".sora-widget-record-output").nth(1)
    expect(batch_record.locator('.sw-status[data-status="COMPLETED"]')).to_have_count(2)

    assert host_page.errors == [], host_page.errors

    # marimo keeps no outputs in its .py file: the ledger beside it carries every record,
    # each naming the notebook it ran in, so `sora-widget export` pages the marimo notebook
    notebook = host_server.root_dir / EXAMPLE.name
    records = read_records(notebook)
    assert sorted(r.params.prompt for r in records) == sorted([*BATCH, PROMPT])
    assert {r.status for r in records} == {"COMPLETED"}
    assert {(r.notebook or {}).get("path") for r in records} == {EXAMPLE.name}
    page = export(notebook, host_server.root_dir / "page.html").read_text()
    assert page.count("<video") == 3
