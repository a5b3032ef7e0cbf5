"""The public face: every name in `sora_widget.__all__` resolves (lazily or not), each is
written once by hand (`_LAZY_BY_MODULE`, or the eager imports), and the imports type checkers
read are written from that table (tools/public_names.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import sora_widget as sw

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("public_names", ROOT / "tools" / "public_names.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_resolves():
    missing = [name for name in sw.__all__ if getattr(sw, name, None) is None]
    assert missing == []
    assert len(sw.__all__) == len(set(sw.__all__)) and sw.__all__ == sorted(sw.__all__)
    assert {"Request", "models", "generate", "SoraWidget", "ModelUnavailable", "emulator"} <= set(sw.__all__)


def test_the_lazy_table_is_the_one_list_and_the_typing_imports_are_written_from_it():
    tool = _tool()
    source = (ROOT / "sora_widget" / "__init__.py").read_text()
    assert tool.generate(source) == source, "sora_widget/__init__.py is stale: run tools/public_names.py"
    table = tool.lazy_by_module(source)
    names = [name for names in table.values() for name in names]
    assert len(names) == len(set(names))  # no name in two modules
    assert set(names) <= set(sw.__all__)
    for module, listed in table.items():
        loaded = importlib.import_module(f"sora_widget.{module}")
        assert all(hasattr(loaded, name) for name in listed), module


def test_importing_the_package_loads_none_of_the_heavy_parts():
    code = (
        "import sys, sora_widget as sw; sw.Request; sw.InvalidParams; sw.params.MODELS; "
        "print(sorted(m for m in ('httpx', 'IPython', 'anywidget', 'av', 'starlette') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert loaded.stdout.strip() == "[]"
