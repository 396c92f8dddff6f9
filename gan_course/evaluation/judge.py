"""The course's Fashion-MNIST classifier: one training recipe, trained once, saved, and reused as a judge.

Lesson 04 trains ``models.cnn.FashionCNN`` with ``train_fashion_classifier`` (Adam, one-cycle learning rate: Smith &
Topin, 2017); lessons 11–13 call ``get_fashion_classifier()`` (training it first when the file is missing).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from gan_course.core import checkpoints, runtime
from gan_course.training import classification, schedules
from gan_course.data import fashion_mnist
from gan_course.models import cnn

CHECKPOINT_NAME = "fashion_cnn"
TRAIN_ACCURACY_SAMPLES = 10_000  # train accuracy is measured on this many training images


@dataclass(frozen=True)
class TrainingRecipe:
    """How the classifier is trained; ``FULL`` is what lesson 04 runs, ``QUICK`` what the tests run."""
    train_limit: int | None  # None = all 60 000 training images
    test_limit: int | None  # None = all 10 000 test images
    epochs: int
    batch_size: int = 128
    max_lr: float = 3e-3
    warmup_fraction: float = 0.2  # share of the steps spent warming the learning rate up
    weight_decay: float = 1e-4
    seed: int = 0


FULL = TrainingRecipe(train_limit=None, test_limit=None, epochs=4)
QUICK = TrainingRecipe(train_limit=2000, test_limit=1000, epochs=1)


class ClassifierMissingError(FileNotFoundError):
    """No trained classifier on disk and training was not allowed."""


def train_fashion_classifier(model: nn.Module, quick: bool, progress: bool = True) -> dict:
    """Train ``model`` in place on Fashion-MNIST in [-1, 1] with the ``QUICK`` or ``FULL`` recipe.

    Returns ``{"test_accuracy", "train_accuracy" (first 10 000 training images), "loss" (per epoch), "test_accuracy_per_epoch", "seconds",
    "recipe"}``; accuracies are eval-mode fractions in [0, 1].
    """
    recipe = QUICK if quick else FULL
    train = fashion_mnist.load_fashion_mnist("train", value_range=(-1.0, 1.0), limit=recipe.train_limit)
    test = fashion_mnist.load_fashion_mnist("test", value_range=(-1.0, 1.0), limit=recipe.test_limit)
    total_steps = recipe.epochs * math.ceil(len(train) / recipe.batch_size)
    start = time.perf_counter()
    history = classification.train_classifier(
        model, train.images, train.labels, epochs=recipe.epochs, batch_size=recipe.batch_size, lr=recipe.max_lr,
        weight_decay=recipe.weight_decay, optimizer="adam", test_images=test.images, test_labels=test.labels,
        generator=torch.Generator().manual_seed(recipe.seed), progress=progress, desc="training the classifier",
        lr_schedule=lambda step: schedules.one_cycle_lr(step, total_steps, recipe.max_lr, recipe.warmup_fraction))
    model.eval()
    seen = slice(0, TRAIN_ACCURACY_SAMPLES)  # a fixed slice of the training set, enough to see the gap
    return {"loss": history["loss"], "test_accuracy_per_epoch": history["test_accuracy"],
            "test_accuracy": history["test_accuracy"][-1],
            "train_accuracy": classification.accuracy(model, train.images[seen], train.labels[seen]),
            "seconds": time.perf_counter() - start,
            "recipe": {k: v for k, v in asdict(recipe).items() if v is not None}}


def get_fashion_classifier(train_if_missing: bool = True, progress: bool = True) -> tuple[nn.Module, dict]:
    """The trained ``FashionCNN`` in eval mode on the CPU, and ``info`` (test_accuracy, source, ...).

    Loads ``checkpoint_path("fashion_cnn")``, or trains and saves it if missing or stale (``train_if_missing``).
    """
    model = cnn.FashionCNN()
    path = checkpoints.checkpoint_path(CHECKPOINT_NAME)
    meta = model.config.as_meta()
    if not train_if_missing:
        try:
            state = checkpoints.load(path)
        except checkpoints.CheckpointError as err:
            raise ClassifierMissingError(
                f"no usable Fashion-MNIST classifier at {path} ({err}). Run lesson 04 (notebooks/04_cnn.ipynb) "
                "to train it, or call get_fashion_classifier(train_if_missing=True)") from err
        if state.get("meta") != meta:
            raise ClassifierMissingError(
                f"the classifier at {path} was saved for {state.get('meta')}, not {meta}; run lesson 04 again "
                "or call get_fashion_classifier(train_if_missing=True)")
    quick = runtime.quick_mode()
    info = checkpoints.load_or_train(path, model, lambda m: train_fashion_classifier(m, quick, progress),
                                     meta=meta)
    model.eval()
    return model, {**info, "path": str(path)}
