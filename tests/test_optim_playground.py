"""Tests for gan_course.teaching.optim_playground: surfaces, the optimizer race and the bilinear game, against hand maths."""

import math

import numpy as np
import pytest
import torch

from gan_course.teaching import optim_playground as playground


@pytest.mark.parametrize("name", list(playground.SURFACES))
def test_minima_have_the_stated_value_and_zero_gradient(name):
    surface = playground.SURFACES[name]
    for minimum in surface.minima:
        point = torch.tensor(minimum, dtype=torch.float64, requires_grad=True)
        value = surface(point)
        (grad,) = torch.autograd.grad(value, point)
        assert value.item() == pytest.approx(surface.minimum_value, abs=1e-12)
        torch.testing.assert_close(grad, torch.zeros(2, dtype=torch.float64))


def test_saddle_has_curvature_of_both_signs_at_the_origin():
    surface = playground.SURFACES["saddle"]
    hessian = torch.autograd.functional.hessian(surface, torch.zeros(2, dtype=torch.float64))
    torch.testing.assert_close(torch.linalg.eigvalsh(hessian), torch.tensor([-2.0, 2.0], dtype=torch.float64))


def test_sgd_equals_hand_written_gradient_descent_on_rosenbrock():
    lr, x, y = 1e-3, -1.5, 2.0
    expected = [(x, y)]
    for _ in range(5):  # ∂f/∂x = −2(1 − x) − 400 x (y − x²),  ∂f/∂y = 200 (y − x²)
        gx, gy = -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)
        x, y = x - lr * gx, y - lr * gy
        expected.append((x, y))
    result = playground.descend("sgd", "rosenbrock", (-1.5, 2.0), 5, lr)
    torch.testing.assert_close(torch.tensor(result["trajectory"]), torch.tensor(expected, dtype=torch.float64))
    assert result["final_loss"] == pytest.approx(playground.SURFACES["rosenbrock"](torch.tensor([x, y])).item())
    assert len(result["losses"]) == 6


def test_plain_sgd_lingers_at_the_saddle_while_momentum_and_adam_escape():
    results = playground.race(["sgd", "momentum", "adam"], "saddle", steps=250, lr=0.01)
    reach = {name: playground.steps_to_reach(r["losses"], -0.45) for name, r in results.items()}
    assert reach["sgd"] is None and results["sgd"]["final_loss"] > -0.1
    assert reach["momentum"] < 100 and reach["adam"] < 250


def test_diverging_runs_stop_and_race_takes_one_rate_per_optimizer():
    result = playground.descend("sgd", "rosenbrock", (-1.5, 2.0), 50, 0.1)
    assert len(result["trajectory"]) < 51 and np.isfinite(result["trajectory"]).all()
    results = playground.race(["sgd", "adam"], "beale", steps=3, lr={"sgd": 1e-4, "adam": 1e-2})
    assert set(results) == {"sgd", "adam"} and results["sgd"]["trajectory"].shape == (4, 2)


def test_steps_to_reach():
    assert playground.steps_to_reach([3.0, 2.0, 0.5, 0.1], 0.5) == 2
    assert playground.steps_to_reach([3.0, 2.0], 0.5) is None


def test_simultaneous_descent_ascent_spirals_out_at_the_closed_form_rate():
    for lr in (0.1, 0.05):
        trajectory = playground.bilinear_game("simultaneous", 100, lr, start=(1.0, 0.0))
        expected = (1 + lr ** 2) ** (np.arange(101) / 2)  # |z_(t+1)| = √(1 + η²) |z_t|
        torch.testing.assert_close(torch.tensor(playground.radius(trajectory)), torch.tensor(expected))


def test_alternating_orbits_and_extragradient_and_optimistic_spiral_in():
    r0 = math.sqrt(2)
    alternating = playground.radius(playground.bilinear_game("alternating", 500, 0.1))
    assert alternating.max() < 1.1 * r0 and alternating[-1] > 0.9 * r0
    for method in ("extragradient", "optimistic"):
        radius = playground.radius(playground.bilinear_game(method, 500, 0.1))
        assert radius[-1] < 0.1 * r0, method
    adam = playground.radius(playground.bilinear_game("adam", 200, 0.05))
    assert adam[-1] > r0  # Adam alone does not stop the outward spiral


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown surface 'bowl'.*rosenbrock"):
        playground.race(["sgd"], "bowl")
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'.*adam"):
        playground.descend("lbfgs", "saddle", (0, 0), 1, 0.1)
    with pytest.raises(ValueError, match="unknown game method 'gda'"):
        playground.bilinear_game("gda", 10, 0.1)
    with pytest.raises(ValueError, match="learning rate"):
        playground.descend("sgd", "saddle", (0, 0), 1, -1.0)
