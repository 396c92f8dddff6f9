"""Mini-batch training and accuracy for image classifiers (the MLP of lesson 01, the CNN of lesson 04).

``train_classifier`` minimises ``CE = -mean_i log softmax(f(x_i))[y_i]`` with Adam, AdamW or SGD, seeded shuffling.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import runtime

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,  # plain SGD, no momentum: lesson 03 adds momentum and friends
}


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the message says where and what to try."""


def _check_data(images: torch.Tensor, labels: torch.Tensor, what: str) -> None:
    if not isinstance(images, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise ValueError(f"{what} images and labels must be tensors, got {type(images).__name__} and "
                         f"{type(labels).__name__}")
    if images.ndim < 2:
        raise ValueError(f"{what} images must be (N, ...) with one row per sample, got shape {tuple(images.shape)}")
    if labels.ndim != 1 or labels.dtype not in (torch.int64, torch.int32, torch.uint8):
        raise ValueError(f"{what} labels must be a 1-D integer tensor (N,), got {labels.dtype} "
                         f"{tuple(labels.shape)}")
    if len(images) != len(labels):
        raise ValueError(f"{what}: {len(images)} images but {len(labels)} labels")
    if len(images) == 0:
        raise ValueError(f"{what} data is empty")


def _device_of(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Fraction of samples whose largest logit is the true class, in eval mode without gradients (mode restored)."""
    _check_data(images, labels, "accuracy")
    runtime.check_positive(batch_size=batch_size)
    device = _device_of(model)
    correct = 0
    with torch.no_grad(), runtime.evaluating(model):
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size].to(device))  # (b, K)
            predicted = logits.argmax(dim=1).cpu()  # (b, K) -> (b,)
            correct += int((predicted == labels[start:start + batch_size].long()).sum())
    return correct / len(images)


def train_classifier(model: nn.Module, train_images: torch.Tensor, train_labels: torch.Tensor, *, epochs: int,
                     batch_size: int = 128, lr: float = 1e-3, weight_decay: float = 0.0, optimizer: str = "adam",
                     test_images: torch.Tensor | None = None, test_labels: torch.Tensor | None = None,
                     generator: torch.Generator | None = None, progress: bool = True,
                     lr_schedule: Callable[[int], float] | None = None, desc: str = "training") -> dict:
    """Train ``model`` (images -> logits) with mini-batch cross-entropy; return the history.

    Returns ``{"loss", "train_accuracy", "test_accuracy" (with test data), "seconds"}``; ``train_accuracy`` is
    counted on the training mini-batches in train mode. ``lr_schedule(s)``, when given, is the learning rate of
    update ``s`` (``schedules.one_cycle_lr``); else ``lr`` stays constant.
    """
    from tqdm.auto import tqdm

    _check_data(train_images, train_labels, "training")
    if (test_images is None) != (test_labels is None):
        raise ValueError("give both test_images and test_labels, or neither")
    if test_images is not None:
        _check_data(test_images, test_labels, "test")
    runtime.check_positive(epochs=epochs, batch_size=batch_size)
    runtime.check_number("lr", lr, strict=True)
    runtime.check_number("weight_decay", weight_decay)

    device = _device_of(model)
    optim = runtime.lookup(OPTIMIZERS, optimizer, "optimizer")(model.parameters(), lr=lr, weight_decay=weight_decay)
    count = len(train_images)
    steps_per_epoch = math.ceil(count / batch_size)
    history = {"loss": [], "train_accuracy": []}
    if test_images is not None:
        history["test_accuracy"] = []
    start_time = time.perf_counter()
    with runtime.evaluating(model, training=True), \
            tqdm(total=epochs * steps_per_epoch, desc=desc, disable=not progress, leave=False) as bar:
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(count, generator=generator)  # a fresh shuffle every epoch
            loss_sum, correct = 0.0, 0
            for step in range(steps_per_epoch):
                index = order[step * batch_size:(step + 1) * batch_size]
                if lr_schedule is not None:
                    for group in optim.param_groups:
                        group["lr"] = lr_schedule(epoch * steps_per_epoch + step)
                images = train_images[index].to(device)  # (b, ...)
                labels = train_labels[index].long().to(device)  # (b,)
                logits = model(images)  # (b, ...) -> (b, K)
                loss = F.cross_entropy(logits, labels)
                if not torch.isfinite(loss):
                    now = optim.param_groups[0]["lr"]
                    raise NonFiniteLossError(
                        f"the loss became {loss.item()} at epoch {epoch + 1}, step {step + 1} (lr={now}); "
                        f"try a lower learning rate (e.g. {now / 10:g}) and check the inputs for NaN/inf values")
                optim.zero_grad(set_to_none=True)
                loss.backward()
                optim.step()
                loss_sum += loss.item() * len(index)
                correct += int((logits.detach().argmax(dim=1) == labels).sum())
                bar.update(1)
            history["loss"].append(loss_sum / count)
            history["train_accuracy"].append(correct / count)
            if test_images is not None:
                history["test_accuracy"].append(accuracy(model, test_images, test_labels))
            postfix = {"loss": f"{history['loss'][-1]:.3f}"}
            if test_images is not None:
                postfix["test_acc"] = f"{history['test_accuracy'][-1]:.3f}"
            bar.set_postfix(postfix)
    history["seconds"] = time.perf_counter() - start_time
    return history
