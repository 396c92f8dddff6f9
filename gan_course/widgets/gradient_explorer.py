"""Gradient explorer (lesson 02): per-layer gradient norms of a deep MLP, redrawn as you change its recipe.

The engine ``gradient_profile`` is plain Python; ``GradientExplorer`` is the thin ipywidgets shell.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Mapping, Sequence

import ipywidgets as widgets
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gan_course.core import activations, plotting
from gan_course.evaluation import diagnostics
from gan_course.models import deep_mlp

MAX_DEPTH = 40


def _check_batch(images: torch.Tensor, labels: torch.Tensor) -> None:
    if images.ndim < 2 or labels.ndim != 1 or len(images) != len(labels) or len(images) < 2:
        raise ValueError(f"expected images (B, ...) and labels (B,) with B >= 2, got shapes "
                         f"{tuple(images.shape)} and {tuple(labels.shape)}")


def measure(config: deep_mlp.DeepMLPConfig, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> dict:
    """One forward/backward pass of a freshly initialised net: ``{"loss", "grad_norms", "activations"}``.

    The global random state is left untouched (the init draws from its own seeded stream).
    """
    _check_batch(images, labels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = deep_mlp.DeepMLP(config)
    model.train()  # BatchNorm normalises with the batch's statistics, as during training
    with diagnostics.ActivationRecorder(model) as recorder:
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
    grad_norms = [layer.weight.grad.norm().item() for layer in model.linear_layers()]
    return {"loss": loss.item(), "grad_norms": grad_norms, "activations": recorder.rows()}


def gradient_profile(config: deep_mlp.DeepMLPConfig, images: torch.Tensor, labels: torch.Tensor,
                     seed: int = 0) -> list[float]:
    """‖∂L/∂W_l‖ for every linear layer, input to output, of a fresh ``DeepMLP(config)`` on one batch."""
    return measure(config, images, labels, seed)["grad_norms"]


def plot_gradient_profiles(profiles: Mapping[str, Sequence[float]], title: str = "gradient norm per layer",
                           ax=None) -> Figure:
    """One line per named profile: layer index (1 = input side) against ‖∂L/∂W‖ on a log scale."""
    fig = None
    if ax is None:
        fig, ax = plotting.new_figure(size=(7.0, 4.0))
    for name, norms in profiles.items():
        layers = range(1, len(norms) + 1)
        ax.plot(layers, [max(n, 1e-30) for n in norms], marker="o", markersize=3, label=name)
    ax.set_yscale("log")
    ax.set(xlabel="linear layer (1 = input side)", ylabel="‖∂L/∂W‖", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are counted: no 2.5 or 7.5 ticks
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig if fig is not None else ax.figure


class GradientExplorer:
    """Controls for depth, activation, init, normalisation and residual over one fixed batch; shows ``.widget``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, config: deep_mlp.DeepMLPConfig | None = None,
                 seed: int = 0):
        _check_batch(images, labels)
        self.images, self.labels, self.seed = images, labels, seed
        config = config or deep_mlp.DeepMLPConfig(input_size=images[0].numel())
        self.base_config = config
        self.controls = {
            "depth": widgets.IntSlider(value=config.depth, min=1, max=MAX_DEPTH, description="depth"),
            "activation": widgets.Dropdown(options=list(activations.HIDDEN_ACTIVATIONS), value=config.activation,
                                           description="activation"),
            "init": widgets.Dropdown(options=list(deep_mlp.INITS), value=config.init, description="init"),
            "norm": widgets.Dropdown(options=list(deep_mlp.NORMS), value=config.norm, description="norm"),
            "residual": widgets.Checkbox(value=config.residual, description="residual"),
        }
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()
        self.figure, self.ax = plotting.new_figure(size=(7.0, 4.0))
        self.norms: list[float] = []
        self.previous: list[float] | None = None
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        controls = list(self.controls.values())
        self.widget = widgets.VBox([widgets.HBox(controls[:3]), widgets.HBox(controls[3:]), self.image,
                                    self.status])
        self.redraw()

    def config(self) -> deep_mlp.DeepMLPConfig:
        """The configuration the controls describe now."""
        values = {name: control.value for name, control in self.controls.items()}
        return dataclasses.replace(self.base_config, **values)

    def _on_change(self, change) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Recompute the profile for the current controls and redraw the figure."""
        result = measure(self.config(), self.images, self.labels, self.seed)
        self.previous, self.norms = (self.norms or None), result["grad_norms"]
        self.ax.clear()
        if self.previous is not None:
            self.ax.plot(range(1, len(self.previous) + 1), self.previous, color="0.7", linestyle="--",
                         label="previous")
        plot_gradient_profiles({"now": self.norms}, ax=self.ax)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=80)
        self.image.value = buffer.getvalue()
        ratio = diagnostics.gradient_ratio(self.norms)
        self.status.value = (f"loss {result['loss']:.3f} · first/last layer gradient ratio {ratio:.2e} "
                             f"({len(self.norms)} linear layers)")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
