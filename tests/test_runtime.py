import math
import os

import pytest
import torch

from gan_course.core import runtime


def test_same_seed_same_numbers():
    runtime.seed_everything(123)
    first = torch.randn(5), torch.rand(3)
    runtime.seed_everything(123)
    second = torch.randn(5), torch.rand(3)
    torch.testing.assert_close(first, second)
    runtime.seed_everything(124)
    assert not torch.equal(first[0], torch.randn(5))


def test_seed_returns_a_seeded_generator():
    a = torch.randn(4, generator=runtime.seed_everything(7))
    b = torch.randn(4, generator=runtime.seed_everything(7))
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_seed_is_refused(bad):
    with pytest.raises(ValueError, match="seed"):
        runtime.seed_everything(bad)


def test_quick_mode_and_pick(monkeypatch):
    monkeypatch.setenv("GAN_COURSE_QUICK", "1")
    assert runtime.quick_mode() and runtime.pick(full=1000, quick=10) == 10
    monkeypatch.setenv("GAN_COURSE_QUICK", "0")
    assert not runtime.quick_mode() and runtime.pick(full=1000, quick=10) == 1000
    monkeypatch.setenv("GAN_COURSE_QUICK", "maybe")
    with pytest.raises(ValueError, match="maybe"):
        runtime.quick_mode()


def test_device_choice(monkeypatch):
    monkeypatch.delenv("GAN_COURSE_DEVICE", raising=False)
    assert runtime.get_device("cpu") == torch.device("cpu")
    assert runtime.get_device().type in ("cpu", "cuda", "mps")
    with pytest.raises(ValueError, match="tpu"):
        runtime.get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            runtime.get_device("cuda")


def test_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert runtime.set_threads(1) == 1 and torch.get_num_threads() == 1
        with pytest.raises(ValueError):
            runtime.set_threads(0)
    finally:
        torch.set_num_threads(before)
    assert "mode=" in runtime.describe()


def test_shared_validators_name_the_bad_value():
    runtime.check_int("delay", 0, minimum=0)
    runtime.check_positive(width=3, depth=1)
    for bad in (0, -2, 1.5, True, "4"):
        with pytest.raises(ValueError, match=r"width must be a positive int, got"):
            runtime.check_positive(width=bad)
    with pytest.raises(ValueError, match=r"length must be an int >= 2, got 1"):
        runtime.check_int("length", 1, minimum=2)
    runtime.check_number("weight", 0)
    runtime.check_number("scale", 1.0, minimum=1)
    runtime.check_number("lr", 1e-4, strict=True)
    for bad in (0.0, -1e-3, math.nan, math.inf, True, "0.1"):
        with pytest.raises(ValueError, match=r"lr must be a positive finite number, got"):
            runtime.check_number("lr", bad, strict=True)
    with pytest.raises(ValueError, match=r"scale must be a finite number >= 1, got 0.5"):
        runtime.check_number("scale", 0.5, minimum=1)


def test_threads_from_the_environment(monkeypatch):
    """Issue 16.5/16.6: GAN_COURSE_THREADS is parsed with messages naming it; too many threads are capped."""
    before = torch.get_num_threads()
    cores = os.cpu_count() or 1
    try:
        monkeypatch.delenv(runtime.THREADS_ENV, raising=False)
        assert runtime.set_threads() == cores
        monkeypatch.setenv(runtime.THREADS_ENV, "0")
        assert runtime.set_threads() == cores
        monkeypatch.setenv(runtime.THREADS_ENV, " 2 ")
        assert runtime.set_threads() == 2 == torch.get_num_threads()
        for bad in ("abc", "", "1.5", "-1"):
            monkeypatch.setenv(runtime.THREADS_ENV, bad)
            with pytest.raises(ValueError, match=f"GAN_COURSE_THREADS={bad!r}.*from 1 to {runtime.max_threads()}"):
                runtime.set_threads()
        monkeypatch.setenv(runtime.THREADS_ENV, "9999")
        with pytest.warns(RuntimeWarning, match=f"GAN_COURSE_THREADS=9999 .* using {runtime.max_threads()}"):
            assert runtime.set_threads() == runtime.max_threads() == runtime.MAX_THREADS_PER_CORE * cores
        with pytest.warns(RuntimeWarning, match="thread count=100000"):
            assert runtime.set_threads(100_000) == runtime.max_threads()
    finally:
        torch.set_num_threads(before)
