"""Test-wide settings: quick mode for every notebook and test, a headless matplotlib backend."""

import os

os.environ.setdefault("GAN_COURSE_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
