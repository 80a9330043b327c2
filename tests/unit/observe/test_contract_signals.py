"""Ctrl-C during a check's container create waits for the engine's answer
(kfws.observe.contract._sigint_deferred): the create finishes, then the interrupt comes, so the
cleanup finds what the engine made."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from kfws.observe.contract import _sigint_deferred


def test_a_ctrl_c_inside_waits_for_the_block_to_end_then_interrupts() -> None:
    done: list[str] = []
    with pytest.raises(KeyboardInterrupt), _sigint_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        done.append("the create returned")
    assert done == ["the create returned"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_without_a_ctrl_c_nothing_happens_and_an_ignored_one_stays_ignored() -> None:
    with _sigint_deferred():
        pass
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_outside_the_main_thread_it_changes_no_handler() -> None:
    seen: list[object] = []

    def worker() -> None:
        with _sigint_deferred():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [signal.default_int_handler]
