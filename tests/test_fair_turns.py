"""The database turns of a gevent worker are taken in arrival order (core.middleware.FairTurns)."""

import threading
import time

from core.middleware import FairTurns


def wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_freed_turn_goes_to_the_oldest_waiter_not_to_a_newcomer():
    turns = FairTurns(1)
    order = []

    def take(name: str) -> None:
        assert turns.take(5)
        order.append(name)
        turns.release()

    assert turns.take(5)
    waiters = []
    for name in ("first", "second"):
        waiter = threading.Thread(target=take, args=(name,))
        waiter.start()
        waiters.append(waiter)
        wait_until(lambda: len(turns.waiting) == len(waiters))
    turns.release()
    take("newcomer")  # arrives the moment the turn is freed
    for waiter in waiters:
        waiter.join(5)
    assert order == ["first", "second", "newcomer"]


def test_it_lets_as_many_holders_in_as_it_has_turns():
    turns = FairTurns(2)
    assert turns.take(0) and turns.take(0)
    assert turns.free == 0 and not turns.waiting
    turns.release()
    turns.release()
    assert turns.free == 2


def test_a_wait_for_a_turn_ends_at_its_deadline_and_leaves_the_line():
    turns = FairTurns(1)
    assert turns.take(1)
    started = time.monotonic()
    assert not turns.take(0.2)
    assert 0.2 <= time.monotonic() - started < 1
    assert not turns.waiting  # the freed turn goes to no one who left
    turns.release()
    assert turns.free == 1


def test_a_readiness_probe_goes_before_the_waiting_requests():
    turns = FairTurns(1)
    order = []

    def take(name: str, first: bool = False) -> None:
        assert turns.take(5, first=first)
        order.append(name)
        turns.release()

    assert turns.take(5)
    waiters = [threading.Thread(target=take, args=("request",))]
    waiters[0].start()
    wait_until(lambda: len(turns.waiting) == 1)
    waiters.append(threading.Thread(target=take, args=("probe", True)))
    waiters[1].start()
    wait_until(lambda: len(turns.waiting) == 2)
    turns.release()
    for waiter in waiters:
        waiter.join(5)
    assert order == ["probe", "request"]
