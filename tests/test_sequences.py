"""Memory tasks: layout of the recall task, reproducibility with a generator, the adding problem's targets."""

import pytest
import torch
import torch.nn.functional as F

from gan_course.data import sequences


def test_recall_layout():
    task = sequences.RecallTask(delay=7, num_classes=3, noise_std=0.5)
    inputs, labels = task.sample(64, torch.Generator().manual_seed(0))
    assert inputs.shape == (64, 9, 4) == (64, task.length, task.input_dim) and labels.shape == (64,)
    assert labels.dtype == torch.int64 and set(labels.tolist()) == {0, 1, 2}
    torch.testing.assert_close(inputs[:, 0], F.one_hot(labels, 4).float())  # step 0 shows the answer
    torch.testing.assert_close(inputs[:, -1], F.one_hot(torch.full((64,), 3), 4).float())  # query marker
    noise = inputs[:, 1:-1]
    assert abs(noise.std().item() - 0.5) < 0.05 and abs(noise.mean().item()) < 0.05


def test_the_noise_carries_no_information_about_the_label():
    inputs, labels = sequences.RecallTask(delay=20).sample(4000, torch.Generator().manual_seed(1))
    noise_means = torch.stack([inputs[labels == k, 1:-1].mean() for k in range(4)])
    assert noise_means.abs().max() < 0.02


def test_same_generator_seed_gives_the_same_batch():
    task = sequences.RecallTask(delay=5)
    a = task.sample(8, torch.Generator().manual_seed(3))
    b = task.sample(8, torch.Generator().manual_seed(3))
    c = task.sample(8, torch.Generator().manual_seed(4))
    torch.testing.assert_close(a, b)
    assert not torch.equal(a[0], c[0])


def test_zero_delay_and_zero_noise():
    inputs, labels = sequences.RecallTask(delay=0, noise_std=0.0).sample(5)
    assert inputs.shape == (5, 2, 5)
    inputs, _ = sequences.RecallTask(delay=3, noise_std=0.0).sample(5)
    assert torch.count_nonzero(inputs[:, 1:-1]) == 0


@pytest.mark.parametrize("kwargs,match", [({"delay": -1}, "delay"), ({"delay": 2, "num_classes": 1}, "num_classes"),
                                          ({"delay": 2, "noise_std": -0.1}, "noise_std"),
                                          ({"delay": 2.5}, "got 2.5")])
def test_bad_recall_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sequences.RecallTask(**kwargs)


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        sequences.RecallTask(3).sample(0)


def test_adding_problem_targets_are_the_marked_sums():
    inputs, targets = sequences.adding_problem(256, 30, torch.Generator().manual_seed(0))
    assert inputs.shape == (256, 30, 2) and targets.shape == (256,)
    markers = inputs[:, :, 1]
    assert torch.equal(markers.sum(1), torch.full((256,), 2.0))
    assert torch.equal(markers[:, :15].sum(1), torch.ones(256))  # one mark in each half
    torch.testing.assert_close(targets, (inputs[:, :, 0] * markers).sum(1))
    # guessing the mean 1 gives MSE ≈ Var(U + U) = 1/6
    assert abs(((targets - 1) ** 2).mean().item() - 1 / 6) < 0.03
    with pytest.raises(ValueError, match="length"):
        sequences.adding_problem(4, 1)


def test_registry_names_both_tasks():
    assert set(sequences.MEMORY_TASKS) == {"recall", "adding"}
