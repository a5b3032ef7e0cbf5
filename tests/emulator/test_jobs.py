"""The job lifecycle as a pure state machine: time is a number we move by hand."""

from __future__ import annotations

import pytest

from sora_widget.emulator.config import EmulatorConfig
from sora_widget.emulator.jobs import (
    COMPLETED,
    CONTENT_POLICY_MESSAGE,
    FAILED,
    PROCESSING,
    QUEUED,
    JobStore,
    OutOfCredits,
)
from sora_widget.emulator.render import VideoFile
from sora_widget.params import MODELS, GenerationParams

CAT = GenerationParams("a cat", duration=4)
VIDEO = VideoFile(path=None, size=10, sha256="ab" * 32, render_s=0.25)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_store(clock: Clock, **config) -> JobStore:
    config.setdefault("latency", 5.0)
    return JobStore(EmulatorConfig(**config), clock)


def test_a_job_processes_for_its_latency_then_completes(clock):
    store = make_store(clock)
    job = store.submit(CAT)
    assert job.status == PROCESSING and job.started_at == job.submitted_at == 1000.0
    assert [j.request_id for j in store.advance().started] == [job.request_id]
    store.mark_ready(job.request_id, VIDEO, at=1000.5)
    clock.now = 1004.999
    assert store.advance().finished == [] and job.status == PROCESSING
    clock.now = 1005.0
    assert store.advance().finished == [job]
    assert job.status == COMPLETED and job.completed_at == 1005.0
    assert job.metrics() == {
        "inference_time": 5.0,
        "queue_time": 0.0,
        "total_time": 5.0,
        "cost": 0.4,  # 4 s of sora-2 at $0.10 a second
        "render_time": 0.25,
        "synthetic": True,
    }


def test_a_job_never_completes_before_its_video_exists(clock):
    store = make_store(clock, latency=1.0)
    job = store.submit(CAT)
    clock.now = 1010.0
    store.advance()
    assert job.status == PROCESSING
    store.mark_ready(job.request_id, VIDEO, at=1012.0)
    clock.now = 1012.0
    store.advance()
    assert job.status == COMPLETED and job.completed_at == 1012.0


def test_queued_jobs_start_when_a_worker_frees_even_if_nobody_looked(clock):
    store = make_store(clock, workers=1)
    first, second = store.submit(CAT), store.submit(CAT)
    assert (first.status, second.status) == (PROCESSING, QUEUED)
    assert store.advance().started == [first]  # what the submits started, reported once
    store.mark_ready(first.request_id, VIDEO, at=1000.0)
    clock.now = 1007.0  # nobody polled at 1005, when the worker freed up
    events = store.advance()
    assert events.finished == [first] and events.started == [second]
    assert second.started_at == 1005.0
    assert second.metrics()["queue_time"] == 5.0
    store.mark_ready(second.request_id, VIDEO, at=1007.0)
    clock.now = 1010.0
    store.advance()
    assert second.status == COMPLETED and second.completed_at == 1010.0


def test_jobs_are_started_in_submission_order(clock):
    store = make_store(clock, workers=2, latency=1.0)
    jobs = [store.submit(CAT) for _ in range(5)]
    assert [j.status for j in jobs] == [PROCESSING, PROCESSING, QUEUED, QUEUED, QUEUED]
    assert store.advance().started == jobs[:2]
    for job in jobs[:2]:
        store.mark_ready(job.request_id, VIDEO, at=clock.now)
    clock.now += 1.0
    started = store.advance().started
    assert started == jobs[2:4]


def test_a_blocked_prompt_fails_after_processing_with_a_content_policy_reason(clock):
    store = make_store(clock, block_words=("Forbidden",), latency=2.0)
    job = store.submit(GenerationParams("a FORBIDDEN scene", duration=4))
    assert job.status == PROCESSING and job.failure == CONTENT_POLICY_MESSAGE
    store.mark_ready(job.request_id, None, at=clock.now)
    clock.now += 2.0
    store.advance()
    assert job.status == FAILED
    assert "content policy" in job.describe()["error"]
    # timings, but no cost: a failed job is not charged
    assert job.metrics() == {"inference_time": 2.0, "queue_time": 0.0, "total_time": 2.0, "synthetic": True}


def test_a_broken_render_fails_the_job(clock):
    store = make_store(clock, latency=0.0)
    job = store.submit(CAT)
    store.mark_broken(job.request_id, "internal error while rendering: boom", at=clock.now)
    store.advance()
    assert job.status == FAILED and job.failure.endswith("boom")


def test_results_expire_after_retention_but_stay_in_the_history(clock):
    store = make_store(clock, latency=1.0, retention=60.0)
    job = store.submit(CAT)
    store.mark_ready(job.request_id, VIDEO, at=clock.now)
    clock.now += 1.0
    store.advance()
    assert store.next_event_at() == 1061.0
    clock.now = 1060.9
    assert store.get(job.request_id) is job
    clock.now = 1061.0
    assert store.advance().expired == [job]
    assert store.get(job.request_id) is None
    assert store.history() == [job] and job.describe()["expired"] is True


def test_unknown_ids_are_none(clock):
    assert make_store(clock).get("nope") is None


def test_credits_are_charged_at_submit_per_second_of_video(clock):
    store = make_store(clock, credits=10)
    store.submit(GenerationParams("a", duration=8))
    assert store.credits == 2
    with pytest.raises(OutOfCredits, match="costs 4 and 2 remain"):
        store.submit(CAT)
    assert store.submitted == 1
    store.configure(EmulatorConfig(credits=4))
    store.submit(CAT)
    assert store.credits == 0


def test_a_failed_job_gives_its_credits_back(clock):
    store = make_store(clock, credits=10, block_words=("forbidden",), latency=1.0)
    job = store.submit(GenerationParams("a forbidden scene", duration=8))
    assert store.credits == 2
    store.mark_ready(job.request_id, None, at=clock.now)
    clock.now += 1.0
    store.advance()
    assert job.status == FAILED and store.credits == 10


def test_a_models_latency_is_the_configured_one_scaled_by_its_typical_latency(clock):
    store = make_store(clock, latency=6.0)
    plain = store.submit(CAT)
    pro = store.submit(CAT, model="sora-2-pro")
    scale = MODELS["sora-2-pro"].typical_latency_s / MODELS["sora-2"].typical_latency_s
    assert scale > 1
    assert plain.processing_s == 6.0
    assert pro.processing_s == pytest.approx(6.0 * scale)
    assert (plain.model, pro.model) == ("sora-2", "sora-2-pro")


def test_a_jobs_cost_comes_from_the_model_table(clock):
    store = make_store(clock, latency=0.0)
    hd = GenerationParams("a cat", duration=12, size="1792x1024")
    job = store.submit(hd, model="sora-2-pro")
    assert job.cost_usd == pytest.approx(12 * MODELS["sora-2-pro"].usd_per_second["1792x1024"])
    assert "cost" not in job.metrics()  # not until it is COMPLETED
    store.mark_ready(job.request_id, VIDEO, at=clock.now)
    store.advance()
    assert job.metrics()["cost"] == job.cost_usd == job.describe()["cost_usd"]
    assert job.describe()["model"] == "sora-2-pro"


def test_jitter_is_seeded_and_bounded(clock):
    def latencies(seed: int) -> list[float]:
        store = make_store(clock, latency=10.0, latency_jitter=0.2, seed=seed)
        return [store.submit(CAT).processing_s for _ in range(50)]

    first = latencies(7)
    assert first == latencies(7)
    assert first != latencies(8)
    assert all(8.0 <= s <= 12.0 for s in first)
    assert max(first) - min(first) > 2.0


def test_lognormal_latency_is_seeded_and_spread_around_the_median(clock):
    import statistics

    store = make_store(clock, latency=10.0, latency_jitter=0.15, latency_distribution="lognormal", seed=3)
    drawn = [store.submit(CAT).processing_s for _ in range(400)]
    assert 9.5 <= statistics.median(drawn) <= 10.5
    assert max(drawn) > 13.0 and min(drawn) < 7.5  # a real spread, both ways
    again = make_store(clock, latency=10.0, latency_jitter=0.15, latency_distribution="lognormal", seed=3)
    assert drawn[:20] == [again.submit(CAT).processing_s for _ in range(20)]


def test_next_event_is_unknown_until_the_video_is_ready(clock):
    store = make_store(clock, latency=3.0)
    job = store.submit(CAT)
    assert store.next_event_at() is None
    store.mark_ready(job.request_id, VIDEO, at=clock.now)
    assert store.next_event_at() == 1003.0


def test_more_workers_at_run_time_start_queued_jobs(clock):
    store = make_store(clock, workers=1)
    _, queued = store.submit(CAT), store.submit(CAT)
    assert queued.status == QUEUED
    store.advance()
    store.configure(EmulatorConfig(workers=2, latency=5.0))
    assert store.advance().started == [queued]
