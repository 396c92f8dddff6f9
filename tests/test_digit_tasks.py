"""Tests for gan_course.data.digit_tasks: targets are right, the generator controls everything."""

import pytest
import torch

from gan_course.data import digit_tasks


def test_sort_targets_are_sorted_permutations_of_the_inputs():
    inputs, targets = digit_tasks.make_batch("sort", 200, 9, generator=torch.Generator().manual_seed(0))
    assert inputs.shape == targets.shape == (200, 9) and inputs.dtype == torch.long
    assert (targets[:, 1:] >= targets[:, :-1]).all()
    for row_in, row_out in zip(inputs, targets):
        assert torch.equal(torch.bincount(row_in, minlength=10), torch.bincount(row_out, minlength=10))


def test_reverse_targets_read_backwards():
    inputs, targets = digit_tasks.make_batch("reverse", 5, 4, num_digits=3, generator=torch.Generator().manual_seed(1))
    assert inputs.max() < 3
    assert [row[::-1] for row in inputs.tolist()] == targets.tolist()


@pytest.mark.parametrize("task", sorted(digit_tasks.TASKS))
def test_the_generator_makes_batches_reproducible(task):
    first = digit_tasks.make_batch(task, 8, generator=torch.Generator().manual_seed(3))
    again = digit_tasks.make_batch(task, 8, generator=torch.Generator().manual_seed(3))
    other = digit_tasks.make_batch(task, 8, generator=torch.Generator().manual_seed(4))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], other[0])


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown task 'shuffle'; choose one of"):
        digit_tasks.make_batch("shuffle", 4)
    with pytest.raises(ValueError, match="length must be a positive int"):
        digit_tasks.make_batch("sort", 4, length=0)


def test_accuracies_count_tokens_and_whole_sequences():
    targets = torch.tensor([[1, 2, 3], [4, 5, 6]])
    predictions = torch.tensor([[1, 2, 3], [4, 0, 6]])
    assert digit_tasks.token_accuracy(predictions, targets) == pytest.approx(5 / 6)
    assert digit_tasks.sequence_accuracy(predictions, targets) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="differ"):
        digit_tasks.token_accuracy(predictions[:1], targets)
