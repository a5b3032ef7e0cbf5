import base64

import pytest

import sora_widget as sw
from sora_widget import params


def test_defaults_follow_the_api_page():
    p = params.validate("a monk under a waterfall")
    assert (p.duration, p.size, p.input_reference) == (8, "720x1280", None)
    assert p.payload() == {"prompt": "a monk under a waterfall", "duration": 8, "size": "720x1280"}


@pytest.mark.parametrize(("given", "expected"), [(4, 4), ("8", 8), (" 12 ", 12), (8.0, 8)])
def test_duration_accepts_ints_and_numeric_strings(given, expected):
    assert params.validate_duration(given) == expected


@pytest.mark.parametrize("given", [5, "5", "eight", True, 8.5, -4])
def test_duration_outside_the_allowed_values_names_them(given):
    with pytest.raises(sw.InvalidParams) as caught:
        params.validate("x", duration=given)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.field == "duration"
    assert "4, 8, 12" in str(error)


def test_a_duration_left_out_is_the_models_default():
    assert params.validate("x", duration=None).duration == 8
    assert params.validate("x", model="hailuo-02-fast", first_frame="https://e.com/a.png").duration == 6


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("720x1280", "720x1280"),
        ("1280x720", "1280x720"),
        ("Portrait", "720x1280"),
        ("landscape", "1280x720"),
        ("1280×720", "1280x720"),
    ],
)
def test_size_accepts_values_and_labels(given, expected):
    assert params.validate_size(given) == expected


def test_unknown_size_lists_both_sizes():
    with pytest.raises(sw.InvalidParams) as caught:
        params.validate("x", size="1920x1080")
    assert "'720x1280' (portrait)" in str(caught.value)
    assert "'1280x720' (landscape)" in str(caught.value)


@pytest.mark.parametrize("prompt", ["", "   \n", None, 42])
def test_prompt_must_be_non_empty_text(prompt):
    with pytest.raises(sw.InvalidParams) as caught:
        params.validate(prompt)
    assert caught.value.field == "prompt"


def test_prompt_is_kept_verbatim():
    assert params.validate("  two spaces  ").prompt == "  two spaces  "


def _data_uri(payload: bytes = b"\x89PNG fake", mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode()}"


def test_reference_forms(tmp_path):
    assert params.validate_reference("https://example.com/a.png") == "https://example.com/a.png"
    uri = _data_uri()
    assert params.validate_reference(uri) == uri
    image = tmp_path / "ref.png"
    image.write_bytes(b"\x89PNG")
    assert params.validate_reference(image) == str(image)
    assert params.reference_kind(str(image)) == "path"


@pytest.mark.parametrize(
    "value",
    ["ftp://example.com/a.png", "https://", "data:text/plain;base64,aGk=", "data:image/png;base64,@@@", 12],
)
def test_bad_references_are_refused(value):
    with pytest.raises(sw.InvalidParams) as caught:
        params.validate("x", input_reference=value)
    assert caught.value.field == "input_reference"


def test_local_reference_must_exist_and_be_an_image(tmp_path):
    with pytest.raises(sw.InvalidParams, match="no such file"):
        params.validate_reference(str(tmp_path / "missing.png"))
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    with pytest.raises(sw.InvalidParams, match="not an image"):
        params.validate_reference(str(text))


def test_server_side_validation_refuses_local_paths(tmp_path):
    image = tmp_path / "ref.png"
    image.write_bytes(b"\x89PNG")
    with pytest.raises(sw.InvalidParams):
        params.validate("x", input_reference=str(image), allow_local_reference=False)


def test_oversized_data_uri_is_refused():
    big = _data_uri(b"x" * (params.MAX_REFERENCE_BYTES + 1))
    with pytest.raises(sw.InvalidParams, match="at most"):
        params.validate_reference(big)


def test_view_options_come_from_the_one_list():
    options = params.view_options()
    assert options["durations"] == list(params.DURATIONS)
    assert [s["value"] for s in options["sizes"]] == list(params.SIZES)
    assert options["sizes"][1] == {"value": "1280x720", "label": "Landscape", "width": 1280, "height": 720}


def test_params_round_trip():
    p = params.validate("x", duration=4, size="landscape", input_reference="https://e.com/i.png")
    assert params.GenerationParams.from_dict(p.to_dict()) == p
    assert (p.width, p.height, p.orientation) == (1280, 720, "Landscape")
