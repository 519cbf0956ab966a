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
        with turns:
            order.append(name)

    turns.__enter__()
    waiters = []
    for name in ("first", "second"):
        waiter = threading.Thread(target=take, args=(name,))
        waiter.start()
        waiters.append(waiter)
        wait_until(lambda: len(turns.waiting) == len(waiters))
    turns.__exit__(None, None, None)
    take("newcomer")  # arrives the moment the turn is freed
    for waiter in waiters:
        waiter.join(5)
    assert order == ["first", "second", "newcomer"]


def test_it_lets_as_many_holders_in_as_it_has_turns():
    turns = FairTurns(2)
    turns.__enter__()
    turns.__enter__()
    assert turns.free == 0 and not turns.waiting
    turns.__exit__(None, None, None)
    turns.__exit__(None, None, None)
    assert turns.free == 2
