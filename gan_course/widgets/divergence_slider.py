"""Pull two 1-D distributions apart and watch KL, JS and Wasserstein-1 (lesson 08; Arjovsky, Chintala & Bottou, 2017).

The engine (``shifted_pair``, ``divergences_at_shift``) is plain Python; ``DivergenceSlider`` is a thin ipywidgets
shell that imports ipywidgets only when built.
"""

from __future__ import annotations

import io
import math

import torch

from gan_course.core import plotting, runtime
from gan_course.evaluation import divergences

GRID_LOW, GRID_HIGH, GRID_STEP = -6.0, 16.0, 0.01  # wide enough for shift ≤ MAX_SHIFT plus 6 widths
MAX_SHIFT = 10.0
EDGE = 1e-6  # grid points within this of a block edge count as on it (float rounding of x − centre)


def _gaussian(x: torch.Tensor, centre: float) -> torch.Tensor:
    return torch.exp(-0.5 * (x - centre) ** 2)  # N(centre, 1), unnormalised


def _uniform(x: torch.Tensor, centre: float) -> torch.Tensor:
    offset = x - centre  # half-open [−1, 1) so blocks exactly 2 apart touch without sharing a grid point
    return ((offset >= -1.0 - EDGE) & (offset < 1.0 - EDGE)).to(x.dtype)  # U[centre − 1, centre + 1)


# shape name -> unnormalised density on the grid; both have no free width so the numbers are easy to read
SHAPES = {"gaussian": _gaussian, "uniform": _uniform}
SHAPE_DESCRIPTIONS = {"gaussian": "N(0, 1) vs N(shift, 1)", "uniform": "U[−1, 1) vs U[shift − 1, shift + 1)"}


def grid() -> torch.Tensor:
    """The support points shared by P and Q, float64 so far tails do not underflow: (K,)."""
    count = round((GRID_HIGH - GRID_LOW) / GRID_STEP) + 1
    return torch.linspace(GRID_LOW, GRID_HIGH, count, dtype=torch.float64)


def shifted_pair(shift: float, shape: str = "gaussian") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Grid ``x`` (K,) and probability vectors ``p``, ``q`` (K,) for P centred at 0 and Q centred at ``shift``."""
    runtime.lookup(SHAPES, shape, "shape")
    if not 0.0 <= shift <= MAX_SHIFT:
        raise ValueError(f"shift must lie in [0, {MAX_SHIFT}], got {shift!r}")
    x = grid()
    p, q = SHAPES[shape](x, 0.0), SHAPES[shape](x, float(shift))
    return x, p / p.sum(), q / q.sum()


def divergences_at_shift(shift: float, shape: str = "gaussian") -> dict[str, float]:
    """KL(P‖Q), KL(Q‖P), JS in nats and bits, and W1 between P and Q moved by ``shift``."""
    x, p, q = shifted_pair(shift, shape)
    return {
        "kl_pq": divergences.kl(p, q).item(),
        "kl_qp": divergences.kl(q, p).item(),
        "js_nats": divergences.js(p, q).item(),
        "js_bits": divergences.js(p, q, base=2).item(),
        "w1": divergences.wasserstein_1d(x, x, weights_a=p, weights_b=q).item(),
    }


def readout(values: dict[str, float]) -> str:
    """One line of text for the numbers of ``divergences_at_shift``."""
    return (f"KL(P‖Q) = {values['kl_pq']:.3f} nats · KL(Q‖P) = {values['kl_qp']:.3f} nats · "
            f"JS = {values['js_nats']:.3f} nats (≤ ln 2 = {math.log(2):.3f}) = {values['js_bits']:.3f} bits (≤ 1) · "
            f"W1 = {values['w1']:.3f}")


def draw(shift: float, shape: str = "gaussian"):
    """A Figure with P and Q on the grid, titled with the numbers."""
    x, p, q = shifted_pair(shift, shape)
    density = 1.0 / GRID_STEP  # probability per grid cell -> density
    fig, ax = plotting.new_figure(size=(7.0, 2.6))
    ax.fill_between(x.numpy(), (p * density).numpy(), alpha=0.5, label="P")
    ax.fill_between(x.numpy(), (q * density).numpy(), alpha=0.5, label=f"Q (shift {shift:g})")
    ax.set(xlim=(-4, MAX_SHIFT + 4), xlabel="x", ylabel="density", title=SHAPE_DESCRIPTIONS[shape])
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


class DivergenceSlider:
    """Widget shell: ``DivergenceSlider().widget`` shows a shift slider, a shape dropdown, the readout and a plot."""

    def __init__(self, shift: float = 1.0, shape: str = "gaussian"):
        import ipywidgets  # the only ipywidgets import of this module: the engine above works without it

        self.shift = ipywidgets.FloatSlider(value=shift, min=0.0, max=MAX_SHIFT, step=0.25, description="shift",
                                            continuous_update=False)
        self.shape = ipywidgets.Dropdown(options=sorted(SHAPES), value=shape, description="shape")
        self.readout = ipywidgets.HTML()
        self.picture = ipywidgets.Image(format="png")
        self.widget = ipywidgets.VBox([ipywidgets.HBox([self.shift, self.shape]), self.readout, self.picture])
        self.shift.observe(self.update, names="value")
        self.shape.observe(self.update, names="value")
        self.update()

    def update(self, change=None) -> dict[str, float]:
        """Recompute the numbers and the picture for the current slider and dropdown values."""
        values = divergences_at_shift(self.shift.value, self.shape.value)
        self.readout.value = f"<code>{readout(values)}</code>"
        self.picture.value = _png(draw(self.shift.value, self.shape.value))
        return values

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
