"""Bucket rules, on Redis and on the local backend alike."""

from __future__ import annotations

from collections import Counter

import pytest

from apps.ratelimit.policy import buckets_of
from models_registry.models import Application

from .conftest import buckets, sixteen_clients, wait_for_refill


def take_all(limiter, app_id, chosen, count):
    return [limiter.take(app_id, chosen) for _ in range(count)]


def test_minute_then_hour_then_day_then_refused(limiter):
    chosen = buckets(minute=3, hour=2, day=1)
    decisions = take_all(limiter, 1, chosen, 7)
    assert [d.served for d in decisions] == [0, 0, 0, 1, 1, 2, None]
    assert [d.states[d.served].remaining for d in decisions[:6]] == [2, 1, 0, 1, 0, 0]
    refused = decisions[-1]
    assert not refused.admitted
    assert [s.remaining for s in refused.states] == [0, 0, 0]


def test_applications_have_buckets_of_their_own(limiter):
    chosen = buckets(minute=1, hour=0, day=0)
    assert limiter.take(1, chosen).admitted
    assert not limiter.take(1, chosen).admitted
    assert limiter.take(2, chosen).admitted


def test_a_period_starts_at_first_use_and_refills_the_bucket_when_over(limiter):
    chosen = buckets(minute=2, hour=5, day=5, periods=(1.5, 3600, 86400))
    first = limiter.take(1, chosen)
    started = first.states[0].resets_at_ms
    assert started - first.now_ms == 1500  # anchored at the first use, a whole period long
    second, third = take_all(limiter, 1, chosen, 2)
    assert second.states[0].resets_at_ms == started  # later uses do not move it
    assert third.served == 1  # the minute bucket is empty: the hour's serves
    wait_for_refill(limiter, 1, chosen, 0)
    after = limiter.take(1, chosen)
    assert after.served == 0 and after.states[0].remaining == 1  # full again, one taken
    assert after.states[0].resets_at_ms > started
    assert after.states[1].remaining == 4  # the hour bucket keeps its own period


def test_a_refused_request_is_told_when_the_earliest_bucket_refills(limiter):
    chosen = buckets(minute=1, hour=1, day=1, periods=(60, 3600, 86400))
    take_all(limiter, 1, chosen, 3)
    refused = limiter.take(1, chosen)
    assert refused.earliest_refill().bucket.name == "minute"
    assert 59_000 <= refused.earliest_refill().resets_in_ms(refused.now_ms) <= 60_000


def test_a_bucket_of_capacity_zero_is_skipped_and_never_waited_for(limiter):
    chosen = buckets(minute=0, hour=1, day=0)
    assert limiter.take(1, chosen).served == 1
    refused = limiter.take(1, chosen)
    assert refused.earliest_refill().bucket.name == "hour"


def test_peek_takes_nothing_and_counts_refusals_of_the_last_hour(limiter):
    chosen = buckets(minute=1, hour=0, day=0)
    before = limiter.peek([(1, chosen)])[0]
    assert [s.remaining for s in before.states] == [1, 0, 0]
    assert before.states[0].resets_at_ms is None and before.refused_last_hour == 0
    take_all(limiter, 1, chosen, 4)
    seen = limiter.peek([(1, chosen), (2, chosen)])
    assert seen[0].refused_last_hour == 3 and seen[1].refused_last_hour == 0
    assert seen[0].states[0].remaining == 0
    assert limiter.peek([(1, chosen)])[0].states[0].remaining == 0  # peeking took nothing


def test_reset_fills_the_buckets_again(limiter):
    chosen = buckets(minute=1, hour=1, day=0)
    take_all(limiter, 1, chosen, 3)
    limiter.reset(1)
    assert [s.remaining for s in limiter.peek([(1, chosen)])[0].states] == [1, 1, 0]
    assert limiter.take(1, chosen).served == 0


def test_a_lowered_capacity_applies_at_once(limiter):
    take_all(limiter, 1, buckets(minute=10), 5)
    lowered = limiter.take(1, buckets(minute=4))
    assert lowered.served == 1  # 5 used of 4: the minute bucket is empty
    assert lowered.states[0].remaining == 0


def test_a_shortened_period_ends_by_the_new_length(limiter):
    limiter.take(1, buckets(periods=(60, 3600, 86400)))
    shortened = limiter.take(1, buckets(periods=(0.25, 3600, 86400)))
    assert shortened.states[0].resets_at_ms - shortened.now_ms <= 250
    assert shortened.states[0].remaining == 1  # the tokens used stay used until then


def test_sixteen_clients_get_exactly_the_capacity_none_lost_or_counted_twice(limiter):
    chosen = buckets(minute=200, hour=2600, day=1150)
    decisions = sixteen_clients(lambda: limiter.take(7, chosen))
    assert len(decisions) == 500
    served = Counter(d.served for d in decisions)
    assert served == {0: 200, 1: 300}
    # every token handed out once: the levels seen after each take are all different
    assert sorted(d.states[0].remaining for d in decisions if d.served == 0) == list(range(200))
    assert sorted(d.states[1].remaining for d in decisions if d.served == 1) == \
        list(range(2300, 2600))
    after = limiter.peek([(7, chosen)])[0]
    assert [s.remaining for s in after.states] == [0, 2300, 1150]


@pytest.mark.parametrize("environment, expected", [
    ("production", [200, 2600, 1150]),
    ("sandbox", [100, 1300, 575]),
])
def test_default_capacities_and_sandbox_halving(environment, expected):
    application = Application(slug="x", name="x", environment=environment)
    assert [b.capacity for b in buckets_of(application)] == expected
    assert [b.period_ms for b in buckets_of(application)] == [60_000, 3_600_000, 86_400_000]


def test_configured_capacities_are_halved_for_sandboxes_too():
    application = Application(slug="x", name="x", environment="sandbox", rate_limit_minute=50,
                              rate_limit_hour=7, rate_limit_day=0)
    assert [b.capacity for b in buckets_of(application)] == [25, 3, 0]


def test_redis_reloads_the_script_it_forgot_and_keys_share_one_cluster_slot(settings):
    from redis.crc import key_slot

    from apps.ratelimit.backends import backend
    from apps.ratelimit.backends.redis import keys_of

    settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.redis.RedisBackend"
    limiter = backend()
    chosen = buckets(minute=2)
    assert limiter.take(1, chosen).served == 0
    limiter.client.script_flush()  # as after a Redis restart or failover: EVALSHA fails
    assert limiter.take(1, chosen).states[0].remaining == 0
    assert len({key_slot(key.encode()) for key in keys_of(12345)}) == 1


def test_redis_connections_are_reused_and_a_forked_process_makes_its_own(settings,
                                                                         monkeypatch):
    from apps.ratelimit.backends import backend
    from apps.ratelimit.backends import redis as redis_backend

    settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.redis.RedisBackend"
    limiter = backend()
    chosen = buckets(minute=10)
    limiter.take(1, chosen)
    limiter.take(1, chosen)
    assert len(limiter._idle) == 1  # one call at a time: one connection, reused
    parents = limiter._idle[0]
    real_pid = redis_backend.os.getpid()
    monkeypatch.setattr(redis_backend.os, "getpid", lambda: real_pid + 1)
    assert limiter.take(1, chosen).states[0].remaining == 7
    assert len(limiter._idle) == 1 and limiter._idle[0] is not parents
