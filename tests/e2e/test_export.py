"""`sora-widget export`: one self-contained page of a notebook's generations that
Chromium renders with its clips playable — and no script at all."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from ..kernels import execute_notebook
from .conftest import BLOCK_WORD, FAKE_KEY


@pytest.fixture(scope="module", autouse=True)
def outputs_per_module() -> None:
    """No Jupyter server here (the notebook runs in a kernel of its own, the page opens from a
    file): this replaces the package's per-flavour fixture, so the test runs once, not once
    in each flavour with nothing to tell the two runs apart."""


def test_the_exported_page_plays_every_clip_without_script(browser, e2e_emulator, tmp_path, monkeypatch):
    e2e_emulator.configure(latency=0.5)
    monkeypatch.setenv("SEGMIND_API_KEY", FAKE_KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", e2e_emulator.base_url)
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)
    notebook = tmp_path / "report-me.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import sora_widget as sw"),
        nbformat.v4.new_code_cell("a = sw.generate('a <b>kite</b> & a \"heron\"', duration=4)\na"),
        nbformat.v4.new_code_cell("b = sw.generate('waves on rocks', duration=4, size='landscape')\nb"),
        nbformat.v4.new_code_cell(
            f"try:\n    sw.generate('a {BLOCK_WORD} scene', duration=4)\n"
            "except sw.SoraError as error:\n    failed = error.record\nfailed"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    execute_notebook(nb, cwd=tmp_path, timeout=180)
    nbformat.write(nb, notebook)

    page_path = tmp_path / "shared" / "report.html"
    run = subprocess.run(
        [sys.executable, "-m", "sora_widget.cli", "export", str(notebook), "-o", str(page_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    text = page_path.read_text()
    assert "<script" not in text.lower()
    assert "a &lt;b&gt;kite&lt;/b&gt; &amp; a &quot;heron&quot;" in text  # escaped, never markup
    assert FAKE_KEY not in text
    assert text.count('poster="data:image/jpeg;base64,') == 2
    assert text.count("<dd>AAC · stereo · 48 kHz</dd>") == 2  # the clips' sound, said
    assert " muted" not in text and "autoplay" not in text  # the reader presses play, and hears it

    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    page.goto(page_path.as_uri())
    assert page.locator("script").count() == 0
    videos = page.locator("video")
    assert videos.count() == 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('video')].every(v => v.readyState >= 1 && v.duration > 3.9)",
        timeout=30_000,
        polling=100,
    )
    # the browser decodes their sound (muted here only because nobody pressed play)
    page.evaluate("() => document.querySelectorAll('video').forEach(v => { v.muted = true; v.play(); })")
    page.wait_for_function(
        "() => [...document.querySelectorAll('video')].every(v => v.webkitAudioDecodedByteCount > 0)",
        timeout=30_000,
        polling=100,
    )
    assert page.locator("article").count() == 3  # the failed one is reported too
    assert page.get_by_text("FAILED", exact=True).count() == 1
    context.close()
