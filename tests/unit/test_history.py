"""The request history's pure parts: reading rows and pages, matching a lost submit's body,
judging found / absent / unknown, the dates a search lists, and where the key may go."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from sora_widget.client import AsyncSoraClient, HistoryPolicy
from sora_widget.client._config import DEFAULT_HISTORY_URL, resolve_history_url
from sora_widget.client._history import HISTORY_PATH, body_matches, judge, parse_page, parse_row, window
from sora_widget.errors import ConfigurationError, UnexpectedResponse
from sora_widget.params import validate

AT = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
SENT = validate("a heron", duration=4, size="1280x720").payload()
POLICY = HistoryPolicy(settle_s=90.0, before_s=300.0, after_s=900.0)


def raw(rid: str = "r1", *, created: datetime = AT, body=None, model: str = "sora-2", **extra) -> dict:
    return {
        "request_id": rid,
        "model_name": model,
        "model_status": "COMPLETED",
        "credits_deduction": 0.4,
        "request_body": SENT if body is None else body,
        "generation_url": f"https://cdn.example/{rid}.mp4",
        "latency_ms": 90_000,
        "model_created": created.isoformat().replace("+00:00", "Z"),
        "error": None,
        **extra,
    }


def rows(*items: dict):
    return [parse_row(item) for item in items]


def decide(found, *, now: datetime = AT + timedelta(minutes=5), complete: bool = True, taken=()):
    return judge(
        found,
        model="sora-2",
        sent=SENT,
        attempted_at=AT,
        now=now,
        complete=complete,
        taken=taken,
        policy=POLICY,
    )


# -- reading -------------------------------------------------------------------------------------


def test_a_row_is_read_with_its_charge_inputs_times_and_output():
    row = parse_row(raw())
    assert row is not None and row.request_id == "r1" and row.model == "sora-2" and row.status == "COMPLETED"
    assert row.usd == 0.4 and row.body == SENT and row.prompt == "a heron"
    assert row.created_at == AT and row.finished_at == AT + timedelta(seconds=90)
    assert row.generation_url == "https://cdn.example/r1.mp4"


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"credits_deduction": "0.8"}, "usd", 0.8),
        ({"credits_deduction": -1}, "usd", None),
        ({"credits_deduction": True}, "usd", None),
        ({"request_body": '{"prompt": "a heron"}'}, "body", {"prompt": "a heron"}),
        ({"request_body": "[[[["}, "body", None),
        ({"generation_url": "javascript:alert(1)"}, "generation_url", None),
        (
            {"generation_url": ["https://cdn.example/a.mp4", "https://cdn.example/b.mp4"]},
            "generation_url",
            "https://cdn.example/a.mp4",
        ),
        (
            {"model_created": 1_764_590_400_000},
            "created_at",
            datetime(2025, 12, 1, 12, 0, tzinfo=timezone.utc),
        ),
        ({"model_created": "yesterday"}, "created_at", None),
        ({"model_status": "failed"}, "status", "FAILED"),
        ({"error": "x" * 5000}, "error", "x" * 1999 + "…"),
    ],
)
def test_a_row_is_read_tolerantly_and_bounded(changes, field, expected):
    row = parse_row(raw(**{k: v for k, v in changes.items() if k not in ("model_created",)}) | changes)
    assert getattr(row, field) == expected


@pytest.mark.parametrize(
    "bad", [None, [], "r1", {"request_id": ""}, {"request_id": 7}, {"request_id": "x" * 500}]
)
def test_a_row_without_a_request_id_is_no_row(bad):
    assert parse_row(bad) is None


def test_pages_say_whether_more_follow_however_the_server_says_it():
    assert parse_page({"data": [raw()], "page": 1, "total_pages": 2}, page=1, per_page=1).more is True
    assert parse_page({"data": [raw()], "page": 2, "total_pages": 2}, page=2, per_page=1).more is False
    assert parse_page({"items": [raw()], "total": 3}, page=3, per_page=1).more is False
    assert parse_page({"results": [raw()], "has_more": True}, page=1, per_page=20).more is True
    assert parse_page({"rows": [raw()] * 2}, page=1, per_page=2).more is None  # a full page: ask on
    assert parse_page([raw()], page=1, per_page=20).more is False  # a short one: the last
    # a request of several outputs is listed once per output: kept once
    assert [r.request_id for r in parse_page({"data": [raw(), raw()]}, page=1, per_page=20).rows] == ["r1"]
    with pytest.raises(UnexpectedResponse):
        parse_page({"message": "hello"}, page=1, per_page=20)


# -- matching ------------------------------------------------------------------------------------


def test_a_body_matches_as_json_carries_it_loosely():
    assert body_matches(SENT, {**SENT, "duration": "4"})
    assert body_matches(SENT, {"prompt": "a heron"})  # what the row does not say is not a mismatch
    assert body_matches({**SENT, "seed": 7}, {**SENT, "seed": 7.0})
    assert body_matches({"prompt": "p", "generate_audio": True}, {"prompt": "p", "generate_audio": "true"})
    assert not body_matches(SENT, {**SENT, "prompt": "a heron "})
    assert not body_matches(SENT, {**SENT, "duration": 8})
    assert not body_matches(SENT, {**SENT, "size": "720x1280"})


def test_an_image_sent_as_a_data_uri_matches_the_url_the_server_kept_in_its_place():
    sent = {"prompt": "p", "input_reference": "data:image/png;base64,AAAA"}
    assert body_matches(sent, {"prompt": "p", "input_reference": "https://storage.example/kept.png"})
    assert not body_matches(sent, {"prompt": "p", "input_reference": "data:image/png;base64,BBBB"})


# -- judging -------------------------------------------------------------------------------------


def test_the_one_matching_request_around_the_attempt_is_found():
    found = decide(
        rows(raw("other", body={**SENT, "prompt": "a fox"}), raw("r1", created=AT + timedelta(seconds=2)))
    )
    assert found.verdict == "found" and found.row is not None and found.row.request_id == "r1"


def test_requests_the_ledger_gives_to_other_generations_another_model_or_far_in_time_are_not_it():
    assert decide(rows(raw("r1")), taken={"r1"}).verdict == "absent"
    assert decide(rows(raw("r1", model="sora-2-pro"))).verdict == "absent"
    assert decide(rows(raw("r1", created=AT - timedelta(hours=2)))).verdict == "absent"
    assert decide(rows(raw("r1", created=AT + timedelta(hours=2)))).verdict == "absent"


def test_the_same_request_made_twice_is_the_nearest_in_time_and_without_times_ambiguous():
    near, far = raw("near", created=AT + timedelta(seconds=3)), raw("far", created=AT + timedelta(minutes=9))
    assert decide(rows(far, near)).row.request_id == "near"  # type: ignore[union-attr]
    untimed = [{**raw(rid), "model_created": None} for rid in ("a", "b")]
    ruled = decide(rows(*untimed))
    assert ruled.verdict == "unknown" and "2 requests" in ruled.why


def test_absent_only_once_the_history_had_time_and_was_read_to_its_end():
    assert decide([], now=AT + timedelta(seconds=91)).verdict == "absent"
    early = decide([], now=AT + timedelta(seconds=30))
    assert early.verdict == "unknown" and "30 s after the attempt" in early.why
    partial = decide([], complete=False)
    assert partial.verdict == "unknown" and "to its end" in partial.why


def test_the_dates_a_search_lists_cover_the_minutes_around_the_attempt_never_past_today():
    late = datetime(2026, 12, 1, 23, 58, tzinfo=timezone.utc)
    assert window(late, POLICY, date(2026, 12, 2)) == (date(2026, 12, 1), date(2026, 12, 2))
    assert window(late, POLICY, date(2026, 12, 1)) == (date(2026, 12, 1), date(2026, 12, 1))
    assert window(AT, POLICY, date(2026, 12, 9)) == (date(2026, 12, 1), date(2026, 12, 1))


def test_a_policy_refuses_what_the_history_cannot_take():
    with pytest.raises(ValueError, match="per_page"):
        HistoryPolicy(per_page=500)


# -- where the history is, and the key -----------------------------------------------------------


def test_segmind_s_history_is_on_its_own_host_another_api_serves_it_beside_itself(monkeypatch):
    monkeypatch.delenv("SEGMIND_HISTORY_URL", raising=False)
    assert resolve_history_url("https://api.segmind.com") == DEFAULT_HISTORY_URL
    assert resolve_history_url("http://127.0.0.1:8765") == "http://127.0.0.1:8765"
    monkeypatch.setenv("SEGMIND_HISTORY_URL", "https://history.example/")
    assert resolve_history_url("https://api.segmind.com") == "https://history.example"
    assert resolve_history_url("https://api.segmind.com", "https://given.example") == "https://given.example"
    for bad in ("ftp://x", "https://user:pw@history.example", "https://history.example/?a=1"):
        with pytest.raises(ConfigurationError) as refused:
            resolve_history_url("https://api.segmind.com", bad)
        assert "pw" not in str(refused.value)


async def test_the_key_goes_to_the_history_host_in_use_and_nowhere_else(tmp_path, monkeypatch):
    monkeypatch.delenv("SEGMIND_HISTORY_URL", raising=False)
    async with AsyncSoraClient("sk-secret", "https://api.segmind.com", tmp_path) as segmind:
        assert segmind.history_url == DEFAULT_HISTORY_URL
        assert segmind.requester.headers_for(DEFAULT_HISTORY_URL + HISTORY_PATH) == {"x-api-key": "sk-secret"}
        assert segmind.requester.headers_for("https://cdn.example/r1.mp4") == {}
    async with AsyncSoraClient("sk-secret", "http://127.0.0.1:9", tmp_path) as local:
        assert local.history_url == "http://127.0.0.1:9"
        assert local.requester.headers_for(DEFAULT_HISTORY_URL + HISTORY_PATH) == {}  # not Segmind's, here
    async with AsyncSoraClient(
        "sk-secret", "https://api.segmind.com", tmp_path, history_url="https://mirror.example"
    ) as configured:
        assert configured.requester.headers_for("https://mirror.example" + HISTORY_PATH) == {
            "x-api-key": "sk-secret"
        }
        assert configured.requester.headers_for(DEFAULT_HISTORY_URL + HISTORY_PATH) == {}
