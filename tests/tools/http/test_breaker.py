"""Circuit breaker: unit behaviour with a fake clock, and wrapped around UpstreamClient."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.scripted_http import Gate, Script, json_response, mock_client
from tools.http.breaker import CircuitBreaker
from tools.http.config import HttpPolicy
from tools.http.errors import BadPayload, DeadlineExceeded, NotFound, Rejected, Throttled, TimedOut, Unavailable


async def ok() -> str:
    return "ok"


def failing(exc: BaseException):  # noqa: ANN201 - returns an async callable
    async def call() -> str:
        raise exc

    return call


async def trip(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Unavailable):
            await breaker.call(failing(Unavailable("ctgov", "HTTP 503")))


@pytest.fixture
def breaker(clock: ManualClock) -> CircuitBreaker:
    return CircuitBreaker("ctgov", failure_threshold=3, recovery_time=30.0, clock=clock)


async def test_opens_after_threshold_and_fails_fast(breaker: CircuitBreaker, clock: ManualClock) -> None:
    await trip(breaker, 2)
    assert breaker.status().state == "closed" and breaker.status().consecutive_failures == 2
    await trip(breaker, 1)
    status = breaker.status()
    assert status.state == "open" and status.opened_at == clock.now and status.retry_in == 30.0
    assert status.last_error == "ctgov: HTTP 503" and status.total_failures == 3
    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        return "ok"

    clock.advance(10)
    with pytest.raises(Unavailable) as caught:
        await breaker.call(counted)
    assert calls == 0 and caught.value.retry_in == 20.0


async def test_success_resets_the_consecutive_count(breaker: CircuitBreaker) -> None:
    await trip(breaker, 2)
    assert await breaker.call(ok) == "ok"
    await trip(breaker, 2)
    assert breaker.status().state == "closed" and breaker.status().total_failures == 4


@pytest.mark.parametrize("exc", [Rejected("ctgov", 400, "bad"), NotFound("ctgov", "no such id")])
async def test_rejections_do_not_count(breaker: CircuitBreaker, exc: Exception) -> None:
    for _ in range(5):
        with pytest.raises(type(exc)):
            await breaker.call(failing(exc))
    assert breaker.status().state == "closed" and breaker.status().total_failures == 0


@pytest.mark.parametrize("exc", [TimedOut("ctgov", "t"), BadPayload("ctgov", "html"), httpx.ConnectError("x")])
async def test_upstream_faults_count(breaker: CircuitBreaker, exc: Exception) -> None:
    for _ in range(3):
        with pytest.raises(type(exc)):
            await breaker.call(failing(exc))
    assert breaker.status().state == "open"


async def test_half_open_probe_closes_on_success(breaker: CircuitBreaker, clock: ManualClock) -> None:
    await trip(breaker, 3)
    clock.advance(30)
    assert breaker.status().state == "half_open"
    assert await breaker.call(ok) == "ok"
    status = breaker.status()
    assert status.state == "closed" and status.consecutive_failures == 0 and status.opened_at is None


async def test_half_open_probe_failure_reopens(breaker: CircuitBreaker, clock: ManualClock) -> None:
    await trip(breaker, 3)
    clock.advance(31)
    await trip(breaker, 1)
    assert breaker.status().state == "open" and breaker.status().retry_in == 30.0


async def test_half_open_lets_one_probe_at_a_time(breaker: CircuitBreaker, clock: ManualClock) -> None:
    await trip(breaker, 3)
    clock.advance(30)
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_probe() -> str:
        entered.set()
        await release.wait()
        return "probe"

    probe = asyncio.create_task(breaker.call(slow_probe))
    await entered.wait()
    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        return "ok"

    waiter = asyncio.create_task(breaker.call(counted))
    await asyncio.sleep(0)
    assert calls == 0 and not waiter.done()  # it waits for the probe instead of going through
    release.set()
    assert await probe == "probe" and await waiter == "ok"
    assert breaker.status().state == "closed"


async def test_cancelled_probe_frees_the_slot(breaker: CircuitBreaker, clock: ManualClock) -> None:
    await trip(breaker, 3)
    clock.advance(30)
    entered = asyncio.Event()

    async def hanging_probe() -> None:
        entered.set()
        await asyncio.Event().wait()

    probe = asyncio.create_task(breaker.call(hanging_probe))
    await entered.wait()
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert breaker.status().state == "half_open"
    assert await breaker.call(ok) == "ok"


async def test_client_breaker_blocks_requests_and_recovers(clock: ManualClock) -> None:
    script = Script(default=httpx.Response(503, text="down"))
    policy = HttpPolicy(max_attempts=1, breaker_failure_threshold=2, breaker_recovery_time=30.0)
    async with mock_client(script, clock, policy=policy) as client:
        for _ in range(2):
            with pytest.raises(Unavailable, match="503"):
                await client.get_json("/studies")
        assert client.status().state == "open" and len(script.requests) == 2
        with pytest.raises(Unavailable, match="circuit open") as caught:
            await client.get_json("/studies")
        assert len(script.requests) == 2  # nothing reached the transport
        # The first open period of an outage is breaker_first_recovery (1 s by default).
        assert caught.value.retry_in == 1.0 and client.status().retry_in == 1.0
        clock.advance(1)
        script.default = json_response({"ok": 1})
        assert await client.get_json("/studies") == {"ok": 1}
        status = client.status()
    assert status.state == "closed" and status.total_failures == 2 and status.total_requests == 3


def open_for(breaker: CircuitBreaker) -> float | None:
    status = breaker.status()
    return status.retry_in if status.state == "open" else None


async def test_the_open_period_doubles_after_each_failed_probe_up_to_the_longest(clock: ManualClock) -> None:
    breaker = CircuitBreaker("ctgov", failure_threshold=2, recovery_time=5.0, first_recovery=1.0, clock=clock)
    await trip(breaker, 2)
    periods = [open_for(breaker)]
    for _ in range(4):
        clock.advance(periods[-1] or 0.0)
        assert breaker.status().state == "half_open"
        await trip(breaker, 1)  # the probe fails
        periods.append(open_for(breaker))
    assert periods == [1.0, 2.0, 4.0, 5.0, 5.0]
    with pytest.raises(Unavailable, match="circuit open"):
        await breaker.call(ok)


async def test_a_successful_probe_starts_the_next_outage_from_the_first_period(clock: ManualClock) -> None:
    breaker = CircuitBreaker("ctgov", failure_threshold=1, recovery_time=30.0, first_recovery=1.0, clock=clock)
    await trip(breaker, 1)
    for wait in (1.0, 2.0, 4.0):
        clock.advance(wait)
        await trip(breaker, 1)
    assert open_for(breaker) == 8.0
    clock.advance(8.0)
    assert await breaker.call(ok) == "ok"
    assert breaker.status().state == "closed"
    await trip(breaker, 1)
    assert open_for(breaker) == 1.0


async def test_a_late_failure_while_open_restarts_the_period_without_doubling_it(clock: ManualClock) -> None:
    breaker = CircuitBreaker("ctgov", failure_threshold=1, recovery_time=30.0, first_recovery=2.0, clock=clock)
    started = asyncio.Event()

    async def slow_failure() -> str:
        started.set()
        await asyncio.sleep(0)
        raise Unavailable("ctgov", "HTTP 503")

    late = asyncio.create_task(breaker.call(slow_failure))  # admitted while closed
    await started.wait()
    await trip(breaker, 1)  # opens the breaker: 2 s
    clock.advance(1.5)
    with pytest.raises(Unavailable):
        await late  # fails while the breaker is open
    assert open_for(breaker) == 2.0


async def test_the_first_period_is_capped_by_the_longest(clock: ManualClock) -> None:
    breaker = CircuitBreaker("ctgov", failure_threshold=1, recovery_time=3.0, first_recovery=10.0, clock=clock)
    await trip(breaker, 1)
    assert open_for(breaker) == 3.0
    with pytest.raises(ValueError, match="recovery times"):
        CircuitBreaker("ctgov", failure_threshold=1, recovery_time=3.0, first_recovery=0.0, clock=clock)


async def test_the_half_open_probe_makes_one_attempt_where_calls_retry(clock: ManualClock) -> None:
    script = Script(default=httpx.Response(503, text="down"))
    policy = HttpPolicy(max_attempts=3, breaker_failure_threshold=1, breaker_first_recovery=1.0)
    async with mock_client(script, clock, policy=policy) as client:
        with pytest.raises(Unavailable, match="503"):
            await client.get_json("/studies")
        assert len(script.requests) == 3  # an ordinary call retried
        clock.advance(1.0)
        with pytest.raises(Unavailable, match="503"):
            await client.get_json("/studies")  # the probe
        assert len(script.requests) == 4
        assert client.status().state == "open" and client.status().retry_in == 2.0
        clock.advance(2.0)
        script.default = json_response({"ok": 1})
        assert await client.get_json("/studies") == {"ok": 1}
        assert client.status().state == "closed" and len(script.requests) == 5


async def test_bad_payload_on_json_counts_for_the_client_breaker(clock: ManualClock) -> None:
    script = Script(default=httpx.Response(200, text="<html>maintenance</html>"))
    policy = HttpPolicy(breaker_failure_threshold=2)
    async with mock_client(script, clock, policy=policy) as client:
        for _ in range(2):
            with pytest.raises(BadPayload):
                await client.get_json("/x")
        assert client.status().state == "open"
        assert "maintenance" in (client.status().last_error or "")


async def test_calls_during_the_probe_wait_for_it_and_proceed_when_it_succeeds(clock: ManualClock) -> None:
    # The measured case: 10 calls arrive while the probe is in flight and the upstream is healthy.
    gate = Gate()
    outage = [httpx.Response(503)]

    async def upstream(request: httpx.Request) -> httpx.Response:
        return outage.pop() if outage else await gate(request)

    policy = HttpPolicy(max_attempts=1, breaker_failure_threshold=1, breaker_recovery_time=30.0)
    async with mock_client(upstream, clock, policy=policy) as client:
        with pytest.raises(Unavailable):
            await client.get_json("/x")
        assert client.status().state == "open"
        clock.advance(30)
        probe = asyncio.create_task(client.get_json("/probe"))
        await gate.arrived.wait()
        callers = [asyncio.create_task(client.get_json(f"/c{n}")) for n in range(10)]
        await asyncio.sleep(0)
        assert gate.requests == 1 and not any(caller.done() for caller in callers)
        gate.open()
        results = await asyncio.gather(probe, *callers, return_exceptions=True)
    assert results == [{"ok": True}] * 11 and gate.requests == 11
    assert client.status().state == "closed"


async def test_calls_waiting_for_a_failed_probe_fail_fast_with_the_breakers_error(
    breaker: CircuitBreaker, clock: ManualClock
) -> None:
    await trip(breaker, 3)
    clock.advance(30)
    entered, release = asyncio.Event(), asyncio.Event()

    async def failing_probe() -> str:
        entered.set()
        await release.wait()
        raise Unavailable("ctgov", "HTTP 503")

    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        return "ok"

    probe = asyncio.create_task(breaker.call(failing_probe))
    await entered.wait()
    waiters = [asyncio.create_task(breaker.call(counted, max_wait=10.0)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    outcomes = await asyncio.gather(probe, *waiters, return_exceptions=True)
    assert calls == 0 and all(isinstance(outcome, Unavailable) for outcome in outcomes)
    assert all("circuit open" in str(outcome) and outcome.retry_in == 30.0 for outcome in outcomes[1:])


async def test_a_waiter_becomes_the_probe_when_the_probe_is_cancelled(
    breaker: CircuitBreaker, clock: ManualClock
) -> None:
    await trip(breaker, 3)
    clock.advance(30)
    entered = asyncio.Event()

    async def hanging_probe() -> None:
        entered.set()
        await asyncio.Event().wait()

    probe = asyncio.create_task(breaker.call(hanging_probe))
    await entered.wait()
    waiters = [asyncio.create_task(breaker.call(ok)) for _ in range(3)]
    await asyncio.sleep(0)
    probe.cancel()
    assert await asyncio.gather(*waiters) == ["ok"] * 3
    assert breaker.status().state == "closed"


async def test_the_wait_for_the_probe_is_bounded_and_counts_for_nothing(
    breaker: CircuitBreaker, clock: ManualClock
) -> None:
    await trip(breaker, 3)
    clock.advance(30)
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_probe() -> str:
        entered.set()
        await release.wait()
        return "probe"

    probe = asyncio.create_task(breaker.call(slow_probe))
    await entered.wait()
    async with asyncio.timeout(5.0):
        with pytest.raises(Unavailable, match="probe request did not end within this call's deadline") as caught:
            await breaker.call(ok, max_wait=0.01)
    assert caught.value.local and breaker.status().total_failures == 3
    release.set()
    assert await probe == "probe"


@pytest.mark.parametrize(
    "exc",
    [Throttled("ctgov", 3, 20.0), DeadlineExceeded("ctgov", 10.0, "no time left for a request", local=True)],
)
async def test_errors_raised_without_asking_the_upstream_count_for_nothing(
    breaker: CircuitBreaker, clock: ManualClock, exc: Exception
) -> None:
    for _ in range(5):
        with pytest.raises(type(exc)):
            await breaker.call(failing(exc))
    assert breaker.status().state == "closed" and breaker.status().total_failures == 0
    await trip(breaker, 3)
    clock.advance(30)
    with pytest.raises(type(exc)):
        await breaker.call(failing(exc))  # a probe that never reached the upstream proves nothing
    assert breaker.status().state == "half_open" and breaker.status().consecutive_failures == 3
