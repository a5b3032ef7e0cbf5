"""generate_many's items: normalised and validated up front, named by a stable batch id."""

from __future__ import annotations

import io

import pytest

import sora_widget as sw
from sora_widget.batch.items import batch_id_for, normalize_items, param_hash
from sora_widget.batch.tally import BatchTally, tally
from sora_widget.batch.view import BatchProgressLine, batch_line
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

PNG = bytes.fromhex("89504e470d0a1a0a")  # enough of a PNG for a path reference


def test_prompts_and_dicts_take_the_call_defaults_where_they_do_not_say():
    items = ["a fox", {"prompt": "rain", "duration": "4"}, {"prompt": "sea", "size": "landscape"}]
    assert [i.params for i in normalize_items(items, duration=12, size="portrait")] == [
        GenerationParams("a fox", 12, "720x1280"),
        GenerationParams("rain", 4, "720x1280"),
        GenerationParams("sea", 12, "1280x720"),
    ]


def test_any_iterable_of_items_and_generation_params_are_accepted():
    items = (p for p in ["a", GenerationParams("b", 4, "1280x720")])
    assert [i.params.prompt for i in normalize_items(items, duration=8, size="720x1280")] == ["a", "b"]


@pytest.mark.parametrize(
    ("items", "named"),
    [
        (["ok", {"prompt": "x", "duration": 5}], "items[1].duration=5"),
        (["ok", "fine", ""], "items[2].prompt=''"),
        ([{"prompt": "x", "size": "square"}], "items[0].size='square'"),
        ([{"prompt": "x", "durration": 4}], "items[0]=\"keys ['durration']\""),
        (["ok", 42], "items[1]=42"),
        ([{"prompt": "x", "input_reference": "/no/such/file.png"}], "items[0].input_reference="),
        ([], "items=[]"),
        ("a single prompt", "items='a single prompt'"),
    ],
)
def test_a_bad_item_is_named_by_its_index_before_anything_is_sent(items, named):
    with pytest.raises(sw.InvalidParams) as caught:
        normalize_items(items, duration=8, size="720x1280")
    assert str(caught.value).startswith(named)
    assert isinstance(caught.value, ValueError)


def test_a_dataframe_gives_its_rows_with_gaps_filled_by_the_defaults():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "prompt": ["a fox", "rain", "sea"],
            "duration": [4, None, 12],  # a gap makes the column float with NaN
            "size": ["landscape", None, "720x1280"],
            "notes": ["mine", "not", "sent"],  # the user's own columns are left alone
        }
    )
    assert [i.params for i in normalize_items(frame, duration=8, size="portrait")] == [
        GenerationParams("a fox", 4, "1280x720"),
        GenerationParams("rain", 8, "720x1280"),
        GenerationParams("sea", 12, "720x1280"),
    ]
    with pytest.raises(sw.InvalidParams, match=r"items\[1\]\.duration"):
        normalize_items(pd.DataFrame({"prompt": ["a", "b"], "duration": [4, 7]}), duration=8, size="portrait")
    with pytest.raises(sw.InvalidParams, match="'prompt' column"):
        normalize_items(pd.DataFrame({"text": ["a"]}), duration=8, size="portrait")


def test_the_batch_id_is_stable_and_depends_on_every_item_its_order_and_the_api():
    def batch_id(hashes, api_host="api.segmind.com"):
        return batch_id_for(hashes, api_host=api_host)

    a = [param_hash(p) for p in normalize_items(["x", "y"], duration=4, size="portrait")]
    again = [param_hash(p) for p in normalize_items(["x", {"prompt": "y"}], duration="4", size="720x1280")]
    assert batch_id(a) == batch_id(again)
    assert len(batch_id(a)) == 16
    other_duration = [param_hash(p) for p in normalize_items(["x", "y"], duration=8, size="portrait")]
    assert batch_id(other_duration) != batch_id(a)
    assert batch_id(list(reversed(a))) != batch_id(a)
    assert batch_id(a, api_host="127.0.0.1:8765") != batch_id(a)  # the emulator's jobs are not Segmind's


def test_a_local_reference_is_hashed_by_its_content(tmp_path):
    image = tmp_path / "ref.png"
    image.write_bytes(PNG + b"one")
    params = GenerationParams("x", 4, "720x1280", str(image))
    first = param_hash(params)
    image.write_bytes(PNG + b"two")
    assert param_hash(params) != first


def _record(status, *, video_path=None):
    record = Generation(id=f"id-{status}-{video_path}", params=GenerationParams("p", 4))
    record.status = status
    record.video_path = video_path
    return record


def test_tally_and_the_text_bar():
    records = [_record("COMPLETED", video_path="a.mp4"), _record("FAILED"), _record("UNKNOWN")]
    records += [_record("PROCESSING"), _record("SUBMITTING")]
    t = tally(records, finished={r.id for r in records[:3]}, active={records[3].id})
    assert t == BatchTally(total=5, completed=1, failed=1, unknown=1, running=1)
    assert (t.done, t.percent) == (3, 60)
    assert batch_line(t, 42.0, width=10) == (
        "[######----] 3/5 · 1 completed · 1 failed · 1 unknown (may be billed) · 1 running · 0:42"
    )


def test_the_bar_prints_a_line_per_tenth_when_not_on_a_terminal():
    stream = io.StringIO()
    line = BatchProgressLine(stream)
    for done in range(0, 101):
        line.show(BatchTally(total=100, completed=done), 1.0)
    line.close(BatchTally(total=100, completed=100), 2.0)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11  # 0 %, 10 %, … 90 %, then the final line
    assert lines[-1].startswith("[####################] 100/100 · 100 completed")


def test_items_may_name_their_model_and_take_checked_per_model():
    items = ["a fox", {"prompt": "a kite", "model": "sora-2-pro", "size": "1792x1024", "take": 2}]
    first, second = normalize_items(items, duration=4, size="portrait")
    assert (first.model, first.take) == ("sora-2", 1)
    assert (second.model, second.take, second.params.size) == ("sora-2-pro", 2, "1792x1024")
    with pytest.raises(sw.InvalidParams, match=r"items\[0\]\.size='1792x1024'.*sora-2-pro also offers"):
        normalize_items([{"prompt": "x", "size": "1792x1024"}], duration=4, size="portrait")
    with pytest.raises(sw.InvalidParams, match=r"items\[0\]\.model='sora-3'"):
        normalize_items([{"prompt": "x", "model": "sora-3"}], duration=4, size="portrait")
    with pytest.raises(sw.InvalidParams, match=r"items\[0\]\.take=0"):
        normalize_items(["x"], duration=4, size="portrait", take=0)


def test_the_default_model_and_first_take_leave_the_hash_as_it_was():
    (plain,) = normalize_items(["x"], duration=4, size="portrait")
    (pro,) = normalize_items(["x"], duration=4, size="portrait", model="sora-2-pro")
    (second,) = normalize_items(["x"], duration=4, size="portrait", take=2)
    assert param_hash(plain) == param_hash(plain.params)
    assert len({param_hash(plain), param_hash(pro), param_hash(second)}) == 3
