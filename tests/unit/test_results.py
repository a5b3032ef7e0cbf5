import pytest

import sora_widget as sw
from sora_widget.client._results import describe_shape, output_url, read_status


@pytest.mark.parametrize(
    "output",
    [
        "https://cdn.example/v.mp4",
        ["https://cdn.example/v.mp4", "https://cdn.example/w.mp4"],
        {"url": "https://cdn.example/v.mp4"},
        {"video": {"url": "https://cdn.example/v.mp4"}},
        [{"video_url": "https://cdn.example/v.mp4"}],
    ],
)
def test_output_url_in_each_known_shape(output):
    assert (
        output_url({"status": "COMPLETED", "output": output}, request_id="r") == "https://cdn.example/v.mp4"
    )


@pytest.mark.parametrize(
    "output", [None, 42, [], {"size": 3}, "not a url", [{"nested": {"deeper": {"url": "https://x"}}}]]
)
def test_unknown_shapes_show_the_shape(output):
    with pytest.raises(sw.UnexpectedResponse) as caught:
        output_url({"status": "COMPLETED", "output": output, "metrics": {"t": 1}}, request_id="r")
    assert "'output'" in str(caught.value)
    assert caught.value.request_id == "r"


def test_describe_shape_hides_values():
    shape = describe_shape({"output": ["https://secret-signed-url"], "n": 3, "x": None})
    assert shape == "{'output': [str], 'n': int, 'x': null}"
    assert "secret" not in shape


def test_status_must_be_a_known_state():
    assert read_status({"status": "PROCESSING"}, request_id="r") == "PROCESSING"
    with pytest.raises(sw.UnexpectedResponse):
        read_status({"state": "done"}, request_id="r")
