from __future__ import annotations

import sys

import pytest

from sora_widget.emulator import EmulatorConfig, _extra
from sora_widget.emulator.config import DEFAULT_FPS, FPS_VARIABLE, from_options


@pytest.mark.parametrize(
    "options",
    [
        {"chaos_error_rate": 1.5},
        {"chaos_drop_rate": -0.1},
        {"latency": -1},
        {"workers": 0},
        {"rate_limit": 0},
        {"credits": -1},
        {"chaos_endpoints": ("submit", "teleport")},
        {"api_keys": ("",)},
        {"latency_jitter": 2},
        {"port": 70000},
        {"retired_models": ("sora-2", " ")},
        {"failed_status": 500},
        {"fps": 0},
        {"fps": 61},
        {"fps": 12.5},
        {"audio": "no"},
        {"layout": "dvd"},
    ],
)
def test_bad_values_are_refused_with_the_field_named(options):
    name = next(iter(options))
    with pytest.raises(ValueError, match=name.split("_")[0]):
        EmulatorConfig(**options)


def test_the_frame_rate_is_24_unless_the_environment_or_an_option_says(monkeypatch):
    monkeypatch.delenv(FPS_VARIABLE, raising=False)
    assert from_options({}).fps == DEFAULT_FPS == 24
    monkeypatch.setenv(FPS_VARIABLE, " 8 ")
    assert from_options({}).fps == 8
    assert from_options({"fps": 30}).fps == 30  # an option wins over the environment
    assert EmulatorConfig().fps == DEFAULT_FPS  # the dataclass itself reads nothing


@pytest.mark.parametrize("text", ["fast", "0", "61", "8.5", "-3"])
def test_a_bad_frame_rate_in_the_environment_names_the_variable_and_the_range(monkeypatch, text):
    monkeypatch.setenv(FPS_VARIABLE, text)
    with pytest.raises(ValueError, match=rf"{FPS_VARIABLE} must be .* from 1 to 60 .*unset it"):
        from_options({})


def test_unknown_options_are_a_type_error():
    with pytest.raises(TypeError, match="colour"):
        from_options({"colour": "red"})


def test_lists_become_tuples_and_a_single_string_is_one_item():
    config = EmulatorConfig(block_words=["a", "b"], chaos_endpoints="status", retired_models="sora-2")
    assert config.block_words == ("a", "b") and config.chaos_endpoints == ("status",)
    assert config.retired_models == ("sora-2",)
    assert EmulatorConfig(retired_models=["sora-2-pro"]).public()["retired_models"] == ["sora-2-pro"]


def test_retired_models_and_the_failed_status_change_at_run_time():
    config = EmulatorConfig().patched({"retired_models": ["sora-2-pro"], "failed_status": 200})
    assert config.retired_models == ("sora-2-pro",) and config.failed_status == 200


def test_patched_changes_only_run_time_knobs():
    config = EmulatorConfig(latency=1.0)
    assert config.patched({"latency": 2.0, "chaos_error_rate": 0.5}).latency == 2.0
    with pytest.raises(ValueError, match="cannot change port"):
        config.patched({"port": 1})
    with pytest.raises(TypeError, match="unknown"):
        config.patched({"nonsense": 1})
    with pytest.raises(ValueError):
        config.patched({"workers": -3})


def test_public_view_never_shows_keys():
    public = EmulatorConfig(api_keys=("sk-secret-1", "sk-secret-2")).public()
    assert public["api_keys"] == 2
    assert "sk-secret" not in repr(public)


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(ImportError, match=r'pip install "sora-widget\[emulator\]"') as caught:
        _extra.require()
    assert "av" in str(caught.value)


def test_sound_and_the_file_layout_from_the_command_line():
    import argparse

    from sora_widget.emulator.cli import add_parser, options_from

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    assert EmulatorConfig().audio is True and EmulatorConfig().layout == "web"
    given = options_from(parser.parse_args(["emulator", "--no-audio", "--layout", "camera"]))
    assert (given["audio"], given["layout"]) == (False, "camera")
    plain = options_from(parser.parse_args(["emulator"]))
    assert "audio" not in plain and "layout" not in plain  # the config's defaults
    config = from_options(given)
    assert (config.audio, config.layout) == (False, "camera")
