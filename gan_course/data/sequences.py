"""Generated sequence tasks that need long memory: the recall task and the adding problem (lesson 05).

Recall: remember the first of K symbols across T noise steps (chance 1/K; after Hochreiter & Schmidhuber, 1997);
adding: the sum of two marked numbers among T (same paper; Le et al., 2015).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gan_course.core import runtime


@dataclass(frozen=True)
class RecallTask:
    """Recall the first of ``T + 2`` steps: a one-hot symbol (one of K), T steps of Gaussian noise, a query marker.

    Inputs have ``D = K + 1`` channels (K symbols and the query marker).
    """
    delay: int  # T, the number of noise steps between the symbol and the question
    num_classes: int = 4  # K
    noise_std: float = 0.5  # standard deviation of the distractor noise

    def __post_init__(self):
        runtime.check_int("delay", self.delay, 0)
        runtime.check_int("num_classes", self.num_classes, 2)
        runtime.check_number("noise_std", self.noise_std)

    @property
    def input_dim(self) -> int:
        """Channels per step, ``D = K + 1`` (the K symbols and the query marker)."""
        return self.num_classes + 1

    @property
    def length(self) -> int:
        return self.delay + 2

    def sample(self, batch_size: int, generator: torch.Generator | None = None):
        """``inputs (B, T + 2, D)`` float32 and ``labels (B,)`` int64 in ``0..K-1``."""
        runtime.check_int("batch_size", batch_size, 1)
        k = self.num_classes
        labels = torch.randint(k, (batch_size,), generator=generator)  # (B,)
        symbol = F.one_hot(labels, k + 1).float()[:, None]  # (B, 1, D)
        noise = self.noise_std * torch.randn(batch_size, self.delay, k + 1, generator=generator)  # (B, T, D)
        query = F.one_hot(torch.full((batch_size, 1), k), k + 1).float()  # (B, 1, D) the "answer now" marker
        return torch.cat([symbol, noise, query], dim=1), labels  # (B, T + 2, D), (B,)


def adding_problem(batch_size: int, length: int, generator: torch.Generator | None = None):
    """``inputs (B, T, 2)``: a random number in [0, 1) and a 0/1 marker (exactly two 1s, one in each half);
    ``targets (B,)``: the sum of the two marked numbers (always guessing 1 gives MSE ≈ 1/6)."""
    runtime.check_int("batch_size", batch_size, 1)
    runtime.check_int("length", length, 2)
    values = torch.rand(batch_size, length, generator=generator)  # (B, T)
    half = length // 2
    first = torch.randint(half, (batch_size,), generator=generator)  # one mark in [0, T/2)
    second = half + torch.randint(length - half, (batch_size,), generator=generator)  # one in [T/2, T)
    markers = torch.zeros(batch_size, length)
    rows = torch.arange(batch_size)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]  # (B,)
    return torch.stack([values, markers], dim=2), targets  # (B, T, 2), (B,)


MEMORY_TASKS = {"recall": RecallTask, "adding": adding_problem}
