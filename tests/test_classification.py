"""Tests for gan_course.training.classification: accuracy against a hand count, training behaviour, and its guards."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_course.training import classification


def separable_blobs(count=200, seed=0):
    """Two classes at x0 = ±2 (plus small noise): a margin of several units, so a linear model can reach 100 %."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 2
    images = torch.randn(count, 2, generator=g) * 0.3
    images[:, 0] += labels.float() * 4 - 2
    return images, labels


def test_accuracy_matches_a_hand_count_and_restores_the_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 3), nn.Dropout(0.5))
    images, labels = torch.randn(37, 5), torch.randint(0, 3, (37,))
    model.train()
    value = classification.accuracy(model, images, labels, batch_size=10)  # uneven last batch
    model.eval()
    with torch.no_grad():
        expected = (model(images).argmax(1) == labels).float().mean().item()
    assert value == pytest.approx(expected)
    model.train()
    classification.accuracy(model, images, labels)
    assert model.training, "accuracy must put the model back in train mode"
    model.eval()
    classification.accuracy(model, images, labels)
    assert not model.training


def test_accuracy_is_one_for_a_perfect_model_and_zero_for_a_wrong_one():
    labels = torch.tensor([0, 1, 2, 1])
    perfect = nn.Identity()
    assert classification.accuracy(perfect, F.one_hot(labels, 3).float(), labels) == 1.0
    assert classification.accuracy(perfect, F.one_hot((labels + 1) % 3, 3).float(), labels) == 0.0


def test_linearly_separable_problem_reaches_100_percent():
    images, labels = separable_blobs()
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    history = classification.train_classifier(
        model, images, labels, epochs=15, batch_size=32, lr=0.05, test_images=images, test_labels=labels,
        generator=torch.Generator().manual_seed(0), progress=False)
    assert set(history) == {"loss", "train_accuracy", "test_accuracy", "seconds"}
    assert len(history["loss"]) == len(history["train_accuracy"]) == len(history["test_accuracy"]) == 15
    assert history["test_accuracy"][-1] == 1.0
    assert classification.accuracy(model, images, labels) == 1.0
    assert history["loss"][-1] < history["loss"][0] / 3, "the loss must fall"
    assert history["seconds"] > 0


@pytest.mark.parametrize("optimizer", sorted(classification.OPTIMIZERS))
def test_every_optimizer_learns(optimizer):
    images, labels = separable_blobs(seed=1)
    torch.manual_seed(1)
    model = nn.Linear(2, 2)
    history = classification.train_classifier(model, images, labels, epochs=10, lr=0.1 if optimizer == "sgd" else 0.05,
                                              optimizer=optimizer, progress=False)
    assert "test_accuracy" not in history
    assert history["train_accuracy"][-1] >= 0.99


def test_same_generator_seed_gives_the_same_run_and_another_seed_a_different_one():
    images, labels = separable_blobs(count=100)

    def run(seed):
        torch.manual_seed(0)  # same initial weights every time
        model = nn.Linear(2, 2)
        return classification.train_classifier(model, images, labels, epochs=2, batch_size=16, lr=0.01,
                                               generator=torch.Generator().manual_seed(seed), progress=False)["loss"]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_first_epoch_loss_is_the_cross_entropy_before_the_update():
    # With one batch holding every sample, the first epoch's loss is the cross-entropy before the update.
    images, labels = separable_blobs(count=20)
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    with torch.no_grad():
        expected = F.cross_entropy(model(images), labels).item()
    history = classification.train_classifier(model, images, labels, epochs=1, batch_size=20, lr=1e-3,
                                              progress=False)
    assert history["loss"][0] == pytest.approx(expected, rel=1e-6)


def test_weight_decay_shrinks_the_weights():
    images, labels = separable_blobs()
    norms = []
    for weight_decay in (0.0, 0.5):
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        classification.train_classifier(model, images, labels, epochs=20, lr=0.05, weight_decay=weight_decay,
                                        optimizer="adamw", generator=torch.Generator().manual_seed(0),
                                        progress=False)
        norms.append(model.weight.norm().item())
    assert norms[1] < 0.7 * norms[0]


def test_nan_guard_fires_on_a_huge_learning_rate():
    images, labels = separable_blobs()
    images = images * 1e3
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 2))
    with pytest.raises(classification.NonFiniteLossError, match=r"epoch \d+, step \d+.*lower learning rate"):
        classification.train_classifier(model, images, labels, epochs=50, lr=1e30, optimizer="sgd",
                                        progress=False)


def test_nan_guard_fires_on_a_poisoned_input_and_names_the_place():
    images, labels = separable_blobs(count=64)
    images[40, 1] = float("nan")
    model = nn.Linear(2, 2)
    with pytest.raises(FloatingPointError, match=r"epoch 1, step"):
        classification.train_classifier(model, images, labels, epochs=1, batch_size=64, progress=False)


def test_training_restores_eval_mode():
    images, labels = separable_blobs(count=32)
    model = nn.Linear(2, 2).eval()
    classification.train_classifier(model, images, labels, epochs=1, progress=False)
    assert not model.training


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "adagrad"}, r"unknown optimizer 'adagrad'; choose one of \['adam', 'adamw', 'sgd'\]"),
    ({"epochs": 0}, "epochs must be a positive int"),
    ({"batch_size": 2.5}, "batch_size must be a positive int"),
    ({"lr": -0.1}, "lr must be a positive finite number"),
    ({"lr": float("nan")}, "lr must be a positive finite number"),
    ({"weight_decay": -1.0}, "weight_decay must be a finite number >= 0"),
    ({"test_images": torch.zeros(3, 2)}, "give both test_images and test_labels"),
])
def test_bad_arguments_are_refused(kwargs, message):
    images, labels = separable_blobs(count=10)
    arguments = {"epochs": 1, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        classification.train_classifier(nn.Linear(2, 2), images, labels, **arguments)


def test_mismatched_or_malformed_data_is_refused():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="10 images but 9 labels"):
        classification.train_classifier(model, torch.zeros(10, 2), torch.zeros(9, dtype=torch.long), epochs=1)
    with pytest.raises(ValueError, match="1-D integer tensor"):
        classification.accuracy(model, torch.zeros(4, 2), torch.zeros(4))


def test_progress_bar_path_runs_and_gives_the_same_history(capsys):
    images, labels = separable_blobs(count=40)
    runs = []
    for progress in (True, False):
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        runs.append(classification.train_classifier(model, images, labels, epochs=2, batch_size=8,
                                                    generator=torch.Generator().manual_seed(0),
                                                    progress=progress)["loss"])
    assert runs[0] == runs[1]
