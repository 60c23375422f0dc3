"""The thread count: --threads, else MINSEQ_THREADS, else the default; set on the BLAS pools
through threadpoolctl and read by the fast tier's batch shards."""

import pytest
from threadpoolctl import threadpool_info

from minseq.threads import DEFAULT_THREADS, set_threads, threads_setting


def test_the_flag_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv("MINSEQ_THREADS", raising=False)
    assert threads_setting(None) == DEFAULT_THREADS == 1
    monkeypatch.setenv("MINSEQ_THREADS", "2")
    assert threads_setting(None) == 2 and threads_setting(3) == 3
    monkeypatch.setenv("MINSEQ_THREADS", "0")
    with pytest.raises(ValueError, match="MINSEQ_THREADS must be an integer >= 1, got '0'"):
        threads_setting(None)


def test_set_threads_limits_the_blas_pools():
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    if not blas:
        pytest.skip("no BLAS thread pool found")
    before = blas[0]["num_threads"]
    try:
        set_threads(1)
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {1}
    finally:
        set_threads(before)


def test_the_setting_in_force_is_the_last_set_threads_else_the_environment(monkeypatch):
    from minseq import threads
    monkeypatch.setattr(threads, "_setting", [])
    monkeypatch.setenv("MINSEQ_THREADS", "3")
    assert threads.current_threads() == 3
    monkeypatch.setattr(threads, "_setting", [2])
    assert threads.current_threads() == 2


def test_one_blas_thread_inside_the_context_and_the_setting_after():
    from minseq.threads import one_blas_thread

    def counts():
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}
    if not counts():
        pytest.skip("no BLAS thread pool found")
    before = counts()
    with one_blas_thread():
        assert counts() == {1}
    assert counts() == before
