"""Test-wide settings: quick mode, one PyTorch thread per process, a headless matplotlib backend.

The course's models are tiny: on a busy 2-core machine two PyTorch threads per process spin and run many times
slower than one, and ``./course test`` runs two test processes side by side (pytest-xdist). Notebook kernels
inherit these variables, so ``runtime.set_threads()`` in a lesson's setup cell picks one thread too.
"""

import os

import pytest

os.environ.setdefault("GAN_COURSE_QUICK", "1")
os.environ.setdefault("GAN_COURSE_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _torch_threads():
    """Every test starts with the thread count ``GAN_COURSE_THREADS`` asks for."""
    from gan_course.core import runtime

    runtime.set_threads()
    yield
