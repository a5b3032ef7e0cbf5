"""Untrusted input: crafted notebooks and folders, planted symlinks, bad arguments, servers
that echo the key or redirect it elsewhere. The emulator fixtures are the integration
tests' own (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import pytest

from sora_widget import api
from tests.integration.conftest import emulator, finish_job

__all__ = ["emulator", "finish_job"]

FAKE_KEY = "sk-test-FAKE-untrusted-7e57"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working directory with no settings of its own but a recognisable key."""
    monkeypatch.chdir(tmp_path)
    for name in ("SEGMIND_BASE_URL", "SORA_WIDGET_OUTPUT_DIR", "SEGMIND_UPLOAD_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEGMIND_API_KEY", FAKE_KEY)
    monkeypatch.setattr(api, "_defaults", {})
    return tmp_path
