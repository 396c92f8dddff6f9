"""Tests for gan_course.widgets.divergence_slider: the engine's numbers against closed forms, and the widget
shell driven headless (set the slider, read the readout)."""

import math

import pytest
import torch

from gan_course.evaluation import divergences
from gan_course.widgets import divergence_slider

LOG2 = math.log(2.0)


@pytest.mark.parametrize("shape", sorted(divergence_slider.SHAPES))
def test_shifted_pair_gives_two_distributions_on_one_grid(shape):
    x, p, q = divergence_slider.shifted_pair(1.5, shape)
    assert x.shape == p.shape == q.shape
    torch.testing.assert_close(p.sum(), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(q.sum(), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close((x * q).sum() - (x * p).sum(), torch.tensor(1.5, dtype=torch.float64))


@pytest.mark.parametrize("shape", sorted(divergence_slider.SHAPES))
def test_equal_distributions_have_zero_divergence(shape):
    values = divergence_slider.divergences_at_shift(0.0, shape)
    for name, value in values.items():
        assert value == pytest.approx(0.0, abs=1e-9), name


@pytest.mark.parametrize("shift", [0.5, 1.0, 3.0, 6.0])
def test_gaussian_pair_matches_closed_forms(shift):
    values = divergence_slider.divergences_at_shift(shift, "gaussian")
    closed = divergences.gaussian_kl(0.0, 1.0, shift, 1.0).item()  # = shift² / 2
    assert values["kl_pq"] == pytest.approx(closed, rel=1e-4)
    assert values["kl_qp"] == pytest.approx(closed, rel=1e-4)
    assert values["w1"] == pytest.approx(shift, rel=1e-6)
    assert values["js_bits"] == pytest.approx(values["js_nats"] / LOG2)


def test_js_saturates_at_log2_while_w1_keeps_growing():
    shifts = [2.0, 4.0, 8.0]
    values = [divergence_slider.divergences_at_shift(s, "uniform") for s in shifts]
    for shift, value in zip(shifts, values):
        assert value["js_nats"] == pytest.approx(LOG2)  # disjoint supports: JS is stuck at ln 2
        assert value["js_bits"] == pytest.approx(1.0)
        assert value["w1"] == pytest.approx(shift)
        assert value["kl_pq"] == math.inf
    # overlapping uniform blocks: JS in bits is the non-overlapping fraction, shift / 2
    assert divergence_slider.divergences_at_shift(1.0, "uniform")["js_bits"] == pytest.approx(0.5)


def test_bad_shape_and_shift_are_refused():
    with pytest.raises(ValueError, match=r"unknown shape 'cauchy'; choose one of \['gaussian', 'uniform'\]"):
        divergence_slider.shifted_pair(1.0, "cauchy")
    with pytest.raises(ValueError, match="shift must lie in"):
        divergence_slider.shifted_pair(-1.0)
    with pytest.raises(ValueError, match="shift must lie in"):
        divergence_slider.shifted_pair(divergence_slider.MAX_SHIFT + 1)


def test_widget_readout_and_picture_follow_the_slider_and_dropdown():
    pytest.importorskip("ipywidgets")
    panel = divergence_slider.DivergenceSlider(shift=1.0, shape="gaussian")
    first_text, first_picture = panel.readout.value, bytes(panel.picture.value)
    assert "W1 = 1.000" in first_text and "KL(P‖Q) = 0.500" in first_text
    assert first_picture.startswith(b"\x89PNG")
    panel.shift.value = 4.0
    assert panel.readout.value != first_text
    assert "W1 = 4.000" in panel.readout.value and "KL(P‖Q) = 8.000" in panel.readout.value
    assert bytes(panel.picture.value) != first_picture
    panel.shape.value = "uniform"
    assert "KL(P‖Q) = inf" in panel.readout.value and "1.000 bits" in panel.readout.value
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()
