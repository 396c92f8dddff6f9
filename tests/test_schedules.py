"""Tests for gan_course.training.schedules: hand-computed values and agreement with torch.optim.lr_scheduler."""

import math

import pytest
import torch

from gan_course.training import schedules


def lrs_of(make_scheduler, steps, base_lr=0.5):
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    values = []
    for _ in range(steps):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return torch.tensor(values, dtype=torch.float64)


def test_warmup_then_cosine_by_hand():
    schedule = schedules.WarmupCosine(warmup_steps=4, total_steps=12)
    assert [schedule(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert schedule(4) == pytest.approx(1.0)
    assert schedule(8) == pytest.approx(0.5)  # halfway through the 8 decay steps: ½(1 + cos π/2)
    assert schedule(6) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    assert schedule(12) == pytest.approx(0.0, abs=1e-12)
    assert schedule(100) == pytest.approx(0.0, abs=1e-12)  # stays at the floor
    assert schedules.WarmupCosine(0, 10, min_factor=0.1)(10) == pytest.approx(0.1)


def test_warmup_step_and_exponential_by_hand():
    step = schedules.WarmupStep(warmup_steps=2, step_size=3, gamma=0.5)
    assert [step(s) for s in range(9)] == [0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    exponential = schedules.WarmupExponential(warmup_steps=2, gamma=0.9)
    assert [exponential(s) for s in range(4)] == pytest.approx([0.5, 1.0, 1.0, 0.9])
    assert exponential(12) == pytest.approx(0.9 ** 10)


def test_without_warmup_they_match_torch_schedulers():
    LambdaLR = torch.optim.lr_scheduler.LambdaLR
    total = 20
    torch.testing.assert_close(
        lrs_of(lambda o: LambdaLR(o, schedules.WarmupCosine(0, total, min_factor=0.2)), total + 1),
        lrs_of(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=0.5 * 0.2), total + 1))
    torch.testing.assert_close(
        lrs_of(lambda o: LambdaLR(o, schedules.WarmupStep(0, step_size=4, gamma=0.3)), 15),
        lrs_of(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.3), 15))
    torch.testing.assert_close(
        lrs_of(lambda o: LambdaLR(o, schedules.WarmupExponential(0, gamma=0.8)), 15),
        lrs_of(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8), 15))


def test_warmup_matches_torch_linear_lr():
    # LinearLR(start_factor=1/W, total_iters=W-1) ramps 1/W, 2/W, ..., 1: the same warm-up.
    warmup = 5
    torch.testing.assert_close(
        lrs_of(lambda o: torch.optim.lr_scheduler.LambdaLR(o, schedules.WarmupExponential(warmup, gamma=1.0)), 10),
        lrs_of(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1 / warmup, total_iters=warmup - 1), 10))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="warmup_steps"):
        schedules.WarmupCosine(10, 10)
    with pytest.raises(ValueError, match="gamma"):
        schedules.WarmupStep(0, 5, gamma=1.5)
    with pytest.raises(ValueError, match="step must"):
        schedules.WarmupExponential(0)(-1)
    with pytest.raises(ValueError, match="unknown schedule 'linear'.*cosine"):
        schedules.make("linear")
    assert schedules.make("cosine", warmup_steps=1, total_steps=3)(0) == 1.0
    assert schedules.factors(schedules.WarmupStep(0, 1, 0.5), 3) == [1.0, 0.5, 0.25]


def test_one_cycle_warms_up_then_decays_to_zero():
    total = 100
    rates = [schedules.one_cycle_lr(s, total, 1.0, 0.2) for s in range(total)]
    assert rates[19] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(rates[:19], rates[1:20]))  # rising during warm-up
    assert all(a >= b for a, b in zip(rates[19:], rates[20:]))  # falling afterwards
    assert rates[-1] < 0.01
    # cosine: halfway through the decay the rate is half the peak
    assert schedules.one_cycle_lr(20 + 40, total, 1.0, 0.2) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    with pytest.raises(ValueError, match="step"):
        schedules.one_cycle_lr(100, total, 1.0, 0.2)
    # the formula of WarmupCosine, rounded differently during warm-up (why it stays its own function)
    cosine = schedules.WarmupCosine(20, total)
    assert rates == pytest.approx([cosine(s) for s in range(total)], rel=1e-15, abs=0)


def test_linear_decay_is_the_old_decay_to_zero_bit_for_bit():
    total, warmup = 50, 7  # the image GANs' and the benchmark's former formula, (warm-up ·) (1 − step/steps)
    warm = [(s + 1) / warmup if s < warmup else 1.0 for s in range(total + 1)]
    assert [schedules.LinearDecay(0, 0, total)(s) for s in range(total + 1)] == [1.0 - s / total for s in
                                                                                 range(total + 1)]
    assert [schedules.LinearDecay(warmup, 0, total)(s) for s in range(total + 1)] == [
        w * (1.0 - s / total) for s, w in enumerate(warm)]
    assert schedules.LinearDecay(0, 10, 20, floor=0.5)(40) == 0.5  # held at the floor after the decay
