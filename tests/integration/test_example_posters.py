"""The example notebooks as saved in the repository — executed, outputs stored — show a
picture of every completed clip once converted by nbconvert (`--to html`), with no
extension and no clip file around: a poster per completed generation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nbconvert import HTMLExporter

from sora_widget.records import MIMETYPE

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def completed_clips(nb: dict) -> int:
    """Completed clips in the notebook's record outputs (one per output that lists it)."""
    count = 0
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            bundle = output.get("data", {}).get(MIMETYPE) or {}
            count += sum(
                1
                for g in bundle.get("generations", [])
                if g.get("status") == "COMPLETED" and g.get("video_path")
            )
    return count


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_nbconvert_html_has_one_poster_per_completed_clip(notebook):
    nb = json.loads(notebook.read_text())
    html, _ = HTMLExporter().from_filename(str(notebook))
    assert html.count('poster="data:image/jpeg;base64,') == completed_clips(nb)


def test_the_examples_do_show_clips():
    assert sum(completed_clips(json.loads(p.read_text())) for p in NOTEBOOKS) >= 8
