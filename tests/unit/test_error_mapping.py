import httpx
import pytest

import sora_widget as sw
from sora_widget.client._errors import error_from_response, error_from_transport

FAKE_KEY = "sk-fake-key-DO-NOT-LEAK-1234"


def response(status, body=None, headers=None):
    request = httpx.Request(
        "GET", "https://api.example/v2/requests/r1/status", headers={"x-api-key": FAKE_KEY}
    )
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, sw.BadRequest),
        (401, sw.AuthenticationError),
        (403, sw.PermissionDenied),
        (404, sw.NotFound),
        (406, sw.InsufficientCredits),
        (429, sw.RateLimited),
        (500, sw.ServerError),
        (502, sw.ServerError),
        (504, sw.ServerError),
    ],
)
def test_each_status_has_its_exception(status, cls):
    error = error_from_response(response(status, {"error": "nope"}), during="submitting")
    assert type(error) is cls
    assert isinstance(error, sw.SoraError)
    assert error.http_status == status
    assert error.detail == "nope"
    assert f"HTTP {status} while submitting: nope" in str(error)


def test_404_for_a_known_request_id_means_expired():
    error = error_from_response(response(404, {"error": "not found"}), during="checking", request_id="r1")
    assert isinstance(error, sw.RequestExpired)
    assert error.request_id == "r1"
    assert "r1" in str(error)


def test_messages_say_what_to_do():
    assert "SEGMIND_API_KEY" in str(error_from_response(response(401), during="submitting"))
    assert "credits" in str(error_from_response(response(406), during="submitting")).lower()
    limited = error_from_response(response(429, headers={"retry-after": "3"}), during="x", attempts=4)
    assert limited.retry_after == 3.0
    assert "retried for you 3 times" in str(limited)
    assert limited.retryable


def test_detail_is_read_from_common_fields_and_text():
    assert error_from_response(response(400, {"detail": "bad size"}), during="x").detail == "bad size"
    assert error_from_response(response(400, {"message": "m"}), during="x").detail == "m"
    plain = httpx.Response(502, text="Bad Gateway", request=httpx.Request("GET", "https://a.b/"))
    assert error_from_response(plain, during="x").detail == "Bad Gateway"


def test_the_key_never_reaches_an_error():
    for status in (400, 401, 403, 404, 406, 429, 500):
        error = error_from_response(response(status, {"error": "e"}), during="x", request_id="r1")
        assert FAKE_KEY not in str(error)
        assert FAKE_KEY not in repr(error)
        assert FAKE_KEY not in repr(error.to_dict())
    transport = error_from_transport(
        httpx.ConnectError("boom", request=response(500).request), during="x", url="https://api.example/v2/x"
    )
    assert isinstance(transport, sw.NetworkError)
    assert "api.example" in str(transport)
    assert FAKE_KEY not in str(transport) + repr(transport)


def test_invalid_params_is_a_value_error_and_a_sora_error():
    error = sw.InvalidParams("size", "square", ["720x1280", "1280x720"])
    assert isinstance(error, ValueError) and isinstance(error, sw.SoraError)
    assert error.to_dict()["type"] == "InvalidParams"


def test_submit_outcome_unknown_names_the_ledger_entry():
    error = sw.SubmitOutcomeUnknown("no answer", ledger_id="abc123")
    assert error.ledger_id == "abc123"
    assert "abc123" in str(error)
    assert "billed" in str(error)


def test_timeout_says_how_to_resume():
    error = sw.GenerationTimeout("still running", request_id="r9")
    assert "sw.resume('r9')" in str(error)
