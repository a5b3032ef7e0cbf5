"""The model catalogue, table-driven: every entry is complete and consistent, every value it
allows is one a request can carry, and every request it makes goes out under the model's
own names and comes back unchanged. Adding a model is one entry in params/catalogue.py —
these tests then cover it without a line of their own."""

from __future__ import annotations

import pytest

import sora_widget as sw
from sora_widget import cost, params
from sora_widget.params import COMMON_FIELDS, MODELS

MODEL_NAMES = list(MODELS)
IMAGE = "https://example.com/frame.png"


def a_request(model: str, **fields: object) -> params.Request:
    """A valid request of `model` (with the first frame an image-to-video model needs)."""
    entry = MODELS[model]
    needs = entry.field("first_frame")
    if needs is not None and needs.required and "first_frame" not in fields:
        fields["first_frame"] = IMAGE
    return params.validate("a lighthouse at dusk", model=model, **fields)


def every_value(entry: params.Model) -> list[dict[str, object]]:
    """One change per allowed value of each of the model's fields."""
    changes: list[dict[str, object]] = []
    for f in entry.fields:
        if f.kind == "choice":
            changes += [{f.name: v} for v in f.values]
        elif f.kind == "bool":
            changes += [{f.name: True}, {f.name: False}]
        elif f.kind == "int":
            changes += [{f.name: f.minimum or 0}, {f.name: f.maximum or 7}]
        elif f.kind == "image":
            changes += [{f.name: IMAGE}]
        else:
            changes += [{f.name: "no rain"}]
    return changes


def test_the_default_model_comes_first_and_sora_keeps_its_place():
    assert MODEL_NAMES[:2] == ["sora-2", "sora-2-pro"] and params.DEFAULT_MODEL == "sora-2"
    assert {"veo-3.1-fast", "kling-o1-image-to-video", "hailuo-02-fast", "seedance-2.0"} <= set(MODELS)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_an_entry_is_complete(name):
    entry = MODELS[name]
    assert entry.name == name and entry.label and entry.maker and entry.summary
    assert entry.page == f"https://www.segmind.com/models/{name}/api"
    names = [f.name for f in entry.fields]
    wires = [f.wire for f in entry.fields]
    assert len(set(names)) == len(names) and len(set(wires)) == len(wires)
    assert "prompt" not in wires
    assert entry.durations and entry.default_duration in entry.durations
    for f in entry.fields:
        assert f.label, f.name
        if f.default is not None and f.kind == "choice":
            assert f.default in f.values, (name, f.name)
    # a prior for every duration: the poll schedule never guesses from another model
    assert set(entry.latency_s) == set(entry.durations)
    assert all(params.typical_latency_s(name, d) == entry.latency_s[d] for d in entry.durations)
    # sound: a choice exactly when the model has a sound field
    assert (entry.sound == "optional") == entry.has("sound")
    # its shape: a size, or aspect ratio (and resolution) with a pixel for each pair, or the image's
    if entry.pixels:
        aspects = entry.field("aspect_ratio").values
        resolutions = entry.field("resolution").values if entry.has("resolution") else ("",)
        assert set(entry.pixels) == {(a, r) for a in aspects for r in resolutions}
    else:
        assert entry.has("size") or entry.field("first_frame").required


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_price_key_the_rule_can_meet_is_priced(name):
    entry = MODELS[name]
    rule = entry.price
    if rule.by is None:
        assert set(rule.usd) == {"*"}
    elif rule.by == "sound":
        assert set(rule.usd) == {"sound", "silent"}
    elif rule.by == "size":
        assert set(rule.usd) == set(entry.sizes)
    else:
        assert set(rule.usd) == {str(v) for v in entry.field(rule.by).values}
    for change in every_value(entry):
        estimate = cost.estimate_request(a_request(name, **change), prices=cost.table_prices())
        assert estimate.usd > 0 and estimate.model == name


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_allowed_value_goes_out_under_the_models_own_name_and_comes_back(name):
    entry = MODELS[name]
    for change in every_value(entry):
        request = a_request(name, **change)
        body = request.payload()
        assert set(body) <= {"prompt", *(f.wire for f in entry.fields)}
        ((field_name, value),) = change.items()
        sent = entry.field(field_name)
        assert body[sent.wire] == value, (name, change)
        assert params.from_payload(name, body) == request  # what the server reads is what we sent


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_a_field_the_model_does_not_take_is_refused_naming_those_that_do(name):
    entry = MODELS[name]
    for common in ("last_frame", "seed", "aspect_ratio"):
        if entry.has(common):
            continue
        value = {"last_frame": IMAGE, "seed": 7, "aspect_ratio": "16:9"}[common]
        with pytest.raises(sw.InvalidParams) as refused:
            a_request(name, **{common: value})
        assert refused.value.field == common
        takers = [m for m in MODEL_NAMES if MODELS[m].has(common)]
        assert ", ".join(takers) in refused.value.hint
    with pytest.raises(sw.InvalidParams, match="has no option 'colour'"):
        a_request(name, colour="red")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_the_server_refuses_a_key_the_model_does_not_take_naming_it(name):
    body = a_request(name).payload()
    with pytest.raises(sw.InvalidParams) as refused:
        params.from_payload(name, {**body, "camera": "dolly"})
    assert refused.value.field == "camera" and name in str(refused.value)


def test_an_image_to_video_model_needs_its_first_frame():
    for name in ("kling-o1-image-to-video", "hailuo-02-fast"):
        with pytest.raises(sw.InvalidParams, match="makes video from an image: first_frame is required"):
            params.validate("a kite", model=name)


def test_sound_is_a_choice_only_where_the_model_offers_one():
    assert params.validate("x").makes_sound  # Sora 2 always has sound
    assert not params.validate("x", model="kling-o1-image-to-video", first_frame=IMAGE).makes_sound
    assert not params.validate("x", model="veo-3.1-fast", sound=False).makes_sound
    with pytest.raises(sw.InvalidParams, match="always makes clips with sound"):
        params.validate("x", sound=False)


@pytest.mark.parametrize(
    ("given", "shape"),
    [
        ({"size": "portrait"}, ("9:16", "720p", "720x1280")),
        ({"size": "1920x1080"}, ("16:9", "1080p", "1920x1080")),
        ({"aspect_ratio": "9:16", "resolution": "1080p"}, ("9:16", "1080p", "1080x1920")),
        ({}, ("16:9", "720p", "1280x720")),
    ],
)
def test_a_size_picks_the_aspect_ratio_and_resolution_of_a_model_that_takes_those(given, shape):
    r = params.validate("x", model="veo-3.1-fast", **given)
    assert (r.aspect_ratio, r.resolution, r.size) == shape


def test_first_frame_and_input_reference_name_one_thing():
    assert params.validate("x", first_frame=IMAGE) == params.validate("x", input_reference=IMAGE)
    with pytest.raises(sw.InvalidParams, match="name one thing"):
        params.validate("x", first_frame=IMAGE, input_reference="https://example.com/other.png")


def test_derive_keeps_what_a_new_model_takes_and_drops_the_rest():
    sora = params.validate("a kite", duration=12, size="landscape", input_reference=IMAGE)
    veo = sora.derive(model="veo-3.1-fast", sound=False)
    # 12 s is not Veo's: its default; the landscape shape and the first frame carry over
    assert (veo.duration, veo.aspect_ratio, veo.first_frame, veo.sound) == (8, "16:9", IMAGE, False)
    back = veo.derive(model="sora-2", prompt="a kite again")
    assert (back.prompt, back.size, back.first_frame) == ("a kite again", "1280x720", IMAGE)
    # a change the new model cannot take is refused, not dropped
    with pytest.raises(sw.InvalidParams):
        sora.derive(model="veo-3.1-fast", duration=12)


def test_the_view_is_offered_exactly_the_catalogue():
    offered = params.view_options()["models"]
    assert [m["name"] for m in offered] == MODEL_NAMES
    for model in offered:
        entry = MODELS[model["name"]]
        assert [f["name"] for f in model["fields"]] == [f.name for f in entry.fields]
        for shown, f in zip(model["fields"], entry.fields, strict=True):
            assert [c["value"] for c in shown["choices"]] == list(f.values)
            assert shown["default"] == f.default and shown["required"] == f.required
        assert model["price"]["usd"] == dict(entry.price.usd)
        assert {(p["aspect_ratio"], p["resolution"]): p["size"] for p in model["pixels"]} == dict(
            entry.pixels
        )


def test_the_common_names_are_the_ones_every_layer_knows():
    assert set(COMMON_FIELDS) == {
        "duration",
        "size",
        "aspect_ratio",
        "resolution",
        "first_frame",
        "last_frame",
        "sound",
        "seed",
    }


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_a_record_of_every_model_is_one_the_schema_and_the_checker_accept(name):
    import json

    import jsonschema

    from sora_widget.records import Generation
    from sora_widget.records._check import check_record
    from sora_widget.records.schema import SCHEMA_FILE

    request = a_request(name, **({"seed": 3} if MODELS[name].has("seed") else {}))
    record = Generation(id="r1", params=request, model=name)
    data = json.loads(json.dumps(record.to_dict()))
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(data)
    check_record(data)
    assert Generation.from_dict(data).params == request
    # a duration another model offers, but not this one
    other = next((d for d in params.DURATIONS if d not in MODELS[name].durations), 7)
    wrong = {**data, "params": {**data["params"], "duration": other}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(wrong)
    with pytest.raises(ValueError):
        check_record(wrong)


def test_sw_models_is_a_table_saying_what_the_api_in_use_said_of_each(monkeypatch):
    from sora_widget import api
    from sora_widget.client._sightings import Sightings

    seen = Sightings()
    monkeypatch.setattr(api, "SIGHTINGS", seen)
    monkeypatch.setitem(api._defaults, "base_url", "http://127.0.0.1:9")
    seen.refused("127.0.0.1:9", "sora-2", ["veo-3.1-fast"])
    seen.answered("127.0.0.1:9", "veo-3.1-fast")
    seen.refused("api.segmind.com", "veo-3.1", [])  # another API's word is not this one's
    table = sw.models()
    assert [m.name for m in table] == MODEL_NAMES  # still the catalogue's Model entries
    rows = {row["model"]: row for row in table.rows()}
    assert rows["sora-2"]["here"] == "refused" and rows["veo-3.1-fast"]["here"] == "answered"
    assert rows["veo-3.1"]["here"] == "not asked yet"
    assert rows["veo-3.1-fast"]["price"] == "sound $0.15/s; silent $0.1/s"
    assert rows["hailuo-02-fast"]["price"] == "6 $0.125 a clip; 10 $0.188 a clip"
    text = repr(table)
    assert text.splitlines()[0].split()[:3] == ["model", "takes", "durations"]
    assert f"read from Segmind's pages on {params.READ_ON}" in text
    assert "<td>refused</td>" in table._repr_html_()
