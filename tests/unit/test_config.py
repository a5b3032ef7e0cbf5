import pytest

import sora_widget as sw
from sora_widget.client._config import (
    normalize_base_url,
    origin,
    resolve_api_key,
    resolve_base_url,
    resolve_output_dir,
    resolve_upload_url,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.segmind.com", "https://api.segmind.com"),
        ("https://api.segmind.com/", "https://api.segmind.com"),
        ("https://api.segmind.com/v1", "https://api.segmind.com"),
        ("https://api.segmind.com/v2/", "https://api.segmind.com"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000"),
        ("https://proxy.example/segmind", "https://proxy.example/segmind"),
    ],
)
def test_base_url_accepts_the_sdk_forms(given, expected):
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize("bad", ["api.segmind.com", "ftp://x", "https://x?y=1", ""])
def test_unusable_base_urls_are_configuration_errors(bad):
    with pytest.raises(sw.ConfigurationError):
        normalize_base_url(bad)


def test_environment_is_read_and_arguments_win(monkeypatch, tmp_path):
    monkeypatch.setenv("SEGMIND_API_KEY", " env-key ")
    monkeypatch.setenv("SEGMIND_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SORA_WIDGET_OUTPUT_DIR", str(tmp_path))
    assert resolve_api_key() == "env-key"
    assert resolve_api_key("arg-key") == "arg-key"
    assert resolve_base_url() == "http://127.0.0.1:9"
    assert resolve_base_url("https://api.segmind.com/v1") == "https://api.segmind.com"
    assert resolve_output_dir() == tmp_path
    monkeypatch.delenv("SEGMIND_API_KEY")
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR")
    assert resolve_api_key() is None
    assert str(resolve_output_dir()) == "sora-outputs"


def test_upload_endpoint_follows_the_backend(monkeypatch):
    monkeypatch.delenv("SEGMIND_UPLOAD_URL", raising=False)
    assert resolve_upload_url("https://api.segmind.com") == "https://workflows-api.segmind.com/upload-asset"
    assert resolve_upload_url("http://127.0.0.1:5") == "http://127.0.0.1:5/upload-asset"


def test_origin_distinguishes_hosts_and_ports():
    assert origin("https://api.segmind.com/v2/x") == origin("https://API.segmind.com:443/y")
    assert origin("http://127.0.0.1:8000/a") != origin("http://127.0.0.1:8001/a")
