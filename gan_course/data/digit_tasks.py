"""Toy sequence tasks on digits for the Transformer lesson (06): sort or reverse a random digit string.

Each task maps an input sequence of digits (B, T) to a target sequence of the same length (B, T), so an
encoder with one prediction per position can learn it. Sorting needs every token to compare itself with every
other token (attention); reversing only needs positions. All randomness comes from the caller's generator.
"""

from __future__ import annotations

from typing import Callable

import torch

from gan_course.core import runtime


def _sort(digits: torch.Tensor) -> torch.Tensor:
    return digits.sort(dim=1).values


def _reverse(digits: torch.Tensor) -> torch.Tensor:
    return digits.flip(1)


TASKS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sort": _sort,  # target[t] = the t-th smallest digit
    "reverse": _reverse,  # target[t] = input[T - 1 - t]
}


def make_batch(task: str, batch_size: int, length: int = 8, num_digits: int = 10,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random digits in ``[0, num_digits)`` and their targets, both (batch_size, length) long tensors."""
    runtime.lookup(TASKS, task, "task")
    for name, value in (("batch_size", batch_size), ("length", length), ("num_digits", num_digits)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    digits = torch.randint(num_digits, (batch_size, length), generator=generator)  # (B, T)
    return digits, TASKS[task](digits)


def token_accuracy(predictions: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of positions predicted right: ``mean_{b,t} [pred[b,t] == target[b,t]]``."""
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions {tuple(predictions.shape)} and targets {tuple(targets.shape)} differ")
    return (predictions == targets).float().mean().item()


def sequence_accuracy(predictions: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of whole sequences with every position right."""
    if predictions.shape != targets.shape or predictions.ndim != 2:
        raise ValueError(f"predictions and targets must both be (B, T), got {tuple(predictions.shape)} and "
                         f"{tuple(targets.shape)}")
    return (predictions == targets).all(dim=1).float().mean().item()
