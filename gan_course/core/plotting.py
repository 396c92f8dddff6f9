"""Plots used across the lessons. Every function returns a ``matplotlib.figure.Figure`` and never calls ``show``.

Figures are closed in pyplot right after creation, so a notebook shows each one exactly once: when the cell
returns it (or ``display(fig)`` is called), not again when the cell ends.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure


def new_figure(nrows: int = 1, ncols: int = 1, size=(5.0, 4.0), **kwargs):
    """``plt.subplots`` whose figure is detached from pyplot (so it is not drawn twice in Jupyter)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=size, **kwargs)
    plt.close(fig)
    return fig, axes


def make_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2, value_range=(-1.0, 1.0),
              pad_value: float = 1.0) -> np.ndarray:
    """Tile ``(B, C, H, W)`` images into one ``(rows*H, cols*W, C)`` array in [0, 1] (C = 1 or 3)."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"make_grid expects (B, C, H, W) with C in (1, 3), got {tuple(images.shape)}")
    if nrow < 1:
        raise ValueError(f"nrow must be >= 1, got {nrow}")
    low, high = value_range
    x = ((images.detach().float().cpu() - low) / (high - low)).clamp(0, 1)
    count, channels, height, width = x.shape
    cols = min(nrow, count)
    rows = math.ceil(count / cols)
    grid = torch.full((channels, rows * (height + padding) + padding, cols * (width + padding) + padding),
                      pad_value)
    for index in range(count):
        r, c = divmod(index, cols)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[:, top:top + height, left:left + width] = x[index]
    return grid.permute(1, 2, 0).numpy()  # (C, H, W) -> (H, W, C)


def image_grid(images: torch.Tensor, nrow: int = 8, value_range=(-1.0, 1.0), title: str | None = None,
               row_labels: Sequence[str] | None = None, size: float = 0.6) -> Figure:
    """Show ``(B, C, H, W)`` images as a grid; ``row_labels`` names each row (for one-row-per-class grids)."""
    grid = make_grid(images, nrow=nrow, value_range=value_range)
    rows = math.ceil(len(images) / min(nrow, len(images)))
    fig, ax = new_figure(size=(max(2.0, size * min(nrow, len(images))) + (1.2 if row_labels else 0),
                               max(1.5, size * rows)))
    ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    if row_labels:
        height = images.shape[2] + 2
        ax.set_yticks([2 + height * (i + 0.5) - 1 for i in range(len(row_labels))], list(row_labels))
    else:
        ax.set_yticks([])
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def loss_curves(history: Mapping[str, Sequence[float]], title: str = "losses", xlabel: str = "step",
                smooth: int = 1, logy: bool = False) -> Figure:
    """One line per named series; ``smooth`` > 1 applies a moving average of that width."""
    fig, ax = new_figure(size=(6.0, 3.5))
    for name, values in history.items():
        values = np.asarray(values, dtype=float)
        if values.size == 0:
            continue
        if smooth > 1 and values.size >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
        ax.plot(np.arange(values.size), values, label=name)
    ax.set(title=title, xlabel=xlabel)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def scatter_2d(real: torch.Tensor, fake: torch.Tensor | None = None, title: str = "",
               limit: float | None = None, ax=None) -> Figure:
    """Real points (grey) and generated points (orange) in the plane."""
    fig = None
    if ax is None:
        fig, ax = new_figure(size=(4.0, 4.0))
    real = torch.as_tensor(real).detach().cpu()
    ax.scatter(real[:, 0], real[:, 1], s=4, alpha=0.4, color="0.5", label="real")
    if fake is not None:
        fake = torch.as_tensor(fake).detach().cpu()
        ax.scatter(fake[:, 0], fake[:, 1], s=4, alpha=0.6, color="tab:orange", label="generated")
    if limit is not None:
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit))
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, markerscale=3)
    return fig if fig is not None else ax.figure
