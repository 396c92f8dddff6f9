import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from gan_course.core import plotting


def test_make_grid_layout_and_scaling():
    images = torch.stack([torch.full((1, 4, 4), v) for v in (-1.0, 0.0, 1.0)])
    grid = plotting.make_grid(images, nrow=2, padding=1)
    assert grid.shape == (1 + 2 * 5, 1 + 2 * 5, 1)
    assert grid[1, 1, 0] == 0.0 and grid[1, 6, 0] == 0.5 and grid[6, 1, 0] == 1.0
    rgb = plotting.make_grid(torch.zeros(2, 3, 5, 5), nrow=8, value_range=(0, 1))
    assert rgb.shape == (2 + 7, 2 + 2 * 7, 3)  # padding + one row of (5 + 2)


def test_make_grid_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        plotting.make_grid(torch.zeros(3, 28, 28))
    with pytest.raises(ValueError, match="nrow"):
        plotting.make_grid(torch.zeros(2, 1, 4, 4), nrow=0)


def test_figures_are_returned_not_left_open():
    before = plt.get_fignums()
    figures = [
        plotting.image_grid(torch.rand(6, 1, 8, 8) * 2 - 1, nrow=3, row_labels=["a", "b"]),
        plotting.loss_curves({"d_loss": np.linspace(1, 0, 50), "g_loss": []}, smooth=5, logy=True),
        plotting.scatter_2d(torch.randn(50, 2), torch.randn(50, 2), limit=3),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    assert plt.get_fignums() == before, "plot helpers must not leave figures for Jupyter to draw twice"
    assert len(figures[1].axes[0].lines) == 1 and len(figures[1].axes[0].lines[0].get_xdata()) == 46
