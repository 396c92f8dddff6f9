"""Tests for gan_course.widgets.gradient_explorer: the engine against a hand-run pass, and the widget headless."""

import pytest
import torch
import torch.nn.functional as F

from gan_course.models import deep_mlp
from gan_course.widgets import gradient_explorer


def batch(count=64, size=784, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(count, size, generator=g), torch.randint(0, 10, (count,), generator=g)


def test_profile_equals_a_hand_run_backward_pass():
    images, labels = batch()
    config = deep_mlp.DeepMLPConfig(depth=6, width=32, activation="tanh", init="xavier")
    torch.manual_seed(3)
    model = deep_mlp.DeepMLP(config)
    F.cross_entropy(model(images), labels).backward()
    expected = torch.tensor([layer.weight.grad.norm().item() for layer in model.linear_layers()])
    profile = gradient_explorer.gradient_profile(config, images, labels, seed=3)
    assert len(profile) == config.depth + 1
    torch.testing.assert_close(torch.tensor(profile), expected)


def test_measure_is_seeded_and_leaves_the_global_random_state_alone():
    images, labels = batch()
    config = deep_mlp.DeepMLPConfig(depth=4, width=16)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = gradient_explorer.measure(config, images, labels, seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert first == gradient_explorer.measure(config, images, labels, seed=1)
    assert first["grad_norms"] != gradient_explorer.measure(config, images, labels, seed=2)["grad_norms"]
    assert len(first["activations"]) == config.depth and first["activations"][0]["activation"] == "relu"


def test_cures_change_the_profile_the_way_the_lesson_claims():
    images, labels = batch(128)
    ratio = {}
    for name, config in {
        "sigmoid": deep_mlp.DeepMLPConfig(depth=20, activation="sigmoid"),
        "sigmoid+batchnorm": deep_mlp.DeepMLPConfig(depth=20, activation="sigmoid", norm="batchnorm"),
        "relu+residual": deep_mlp.DeepMLPConfig(depth=20, activation="relu", residual=True),
        "tanh+large": deep_mlp.DeepMLPConfig(depth=20, activation="tanh", init="large"),
    }.items():
        norms = gradient_explorer.gradient_profile(config, images, labels)
        ratio[name] = norms[0] / norms[-1]
    assert ratio["sigmoid"] < 1e-8
    assert ratio["sigmoid+batchnorm"] > 1e-2 and ratio["relu+residual"] > 1e-2
    assert ratio["tanh+large"] > 10  # exploding towards the input


def test_bad_batches_are_refused():
    with pytest.raises(ValueError, match="labels"):
        gradient_explorer.measure(deep_mlp.DeepMLPConfig(depth=2), torch.randn(4, 784), torch.zeros(3).long())


def test_widget_redraws_when_a_control_changes():
    images, labels = batch(32)
    explorer = gradient_explorer.GradientExplorer(images, labels, deep_mlp.DeepMLPConfig(depth=8, width=32))
    line = explorer.ax.lines[-1]
    before_y, before_png, before_status = list(line.get_ydata()), bytes(explorer.image.value), explorer.status.value
    assert len(before_y) == 9 and before_png.startswith(b"\x89PNG")
    explorer.controls["activation"].value = "sigmoid"
    assert explorer.config().activation == "sigmoid"
    after_y = list(explorer.ax.lines[-1].get_ydata())
    assert after_y != before_y and bytes(explorer.image.value) != before_png and explorer.status.value != before_status
    assert list(explorer.ax.lines[0].get_ydata()) == before_y, "the previous profile stays as a reference line"
    explorer.controls["depth"].value = 12
    assert len(explorer.ax.lines[-1].get_ydata()) == 13
    explorer.controls["norm"].value = "batchnorm"
    explorer.controls["residual"].value = True
    explorer.controls["init"].value = "xavier"
    assert explorer.config() == deep_mlp.DeepMLPConfig(depth=12, width=32, activation="sigmoid", init="xavier",
                                                       norm="batchnorm", residual=True)
    assert explorer.norms == gradient_explorer.gradient_profile(explorer.config(), images, labels)


@pytest.mark.parametrize("depth", [3, 6, 20])
def test_layer_axis_has_integer_ticks_in_the_plot_and_the_widget(depth):
    images, labels = batch(16)
    config = deep_mlp.DeepMLPConfig(depth=depth, width=16)
    fig = gradient_explorer.plot_gradient_profiles({"a": gradient_explorer.gradient_profile(config, images, labels)})
    explorer = gradient_explorer.GradientExplorer(images, labels, config)
    explorer.controls["activation"].value = "tanh"   # a redraw clears the axes: the locator must come back
    for ax in (fig.axes[0], explorer.ax):
        ax.figure.canvas.draw()
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
