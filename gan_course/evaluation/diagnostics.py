"""Gradient norms and activation statistics (lesson 02 and its gradient explorer; lesson 05 for recurrent states).

``weight_gradient_norms(model)`` reads ‖∂L/∂W‖ per layer; ``state_gradient_norms(loss, states)`` reads ‖∂L/∂s_t‖ per
time step; ``ActivationRecorder(model)`` records, with hooks, each activation's mean, std, saturated and dead fractions
and ‖∂L/∂h‖, as plain dicts.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_course.core import activations

SATURATION_MARGIN = 0.02  # saturated: output within 2 % of the range width from either end (|tanh| > 0.96)
WEIGHTED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)


def weight_gradient_norms(model: nn.Module) -> list[dict]:
    """``[{"layer": name, "grad_norm": ‖∂L/∂W‖₂ (Frobenius)}, ...]`` in module order, after a backward pass."""
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, WEIGHTED_LAYERS):
            grad = module.weight.grad
            if grad is None:
                raise ValueError(f"layer {name!r} has no gradient yet: call loss.backward() before "
                                 "weight_gradient_norms")
            rows.append({"layer": name, "grad_norm": grad.norm().item()})
    if not rows:
        raise ValueError(f"{type(model).__name__} has no layers of the kinds {[t.__name__ for t in WEIGHTED_LAYERS]}")
    return rows



def state_gradient_norms(loss: torch.Tensor, states: list) -> torch.Tensor:
    """``‖∂L/∂s_t‖`` for each state tensor in ``states`` (graph nodes of a recurrent run), as a ``(T,)`` tensor (0 if
    unused): how far the gradient reaches back in time (lesson 05)."""
    grads = torch.autograd.grad(loss, states, retain_graph=True, allow_unused=True)
    return torch.stack([g.norm() if g is not None else loss.new_zeros(()) for g in grads])

def activation_statistics(name: str, inputs: torch.Tensor, outputs: torch.Tensor) -> dict:
    """Statistics of one activation's outputs ``(B, features...)`` given its inputs (pre-activations).

    ``fraction_dead``: units with f'(x) = 0 for every sample; ``fraction_inactive``: output ≤ 0 for every sample;
    ``fraction_saturated``: outputs in the flat ends of a saturating activation (None for the others).
    """
    activation = activations.get(name)
    if not activation.elementwise:
        raise ValueError(f"activation_statistics handles elementwise activations, not {name!r}")
    if outputs.ndim < 2:
        raise ValueError(f"activation outputs must be (B, features, ...), got shape {tuple(outputs.shape)}")
    x, y = inputs.detach(), outputs.detach()
    units_alive = (activation.derivative(x) != 0).flatten(2).any(dim=2) if x.ndim > 2 else \
        activation.derivative(x) != 0  # (B, C, H, W) -> (B, C): a channel is alive where any position is
    units_positive = (y > 0).flatten(2).any(dim=2) if y.ndim > 2 else y > 0
    saturated = None
    if activation.saturating:
        low, high = activation.output_range
        margin = SATURATION_MARGIN * (high - low)
        saturated = ((y < low + margin) | (y > high - margin)).float().mean().item()
    return {"activation": name, "mean": y.mean().item(), "std": y.std().item() if y.numel() > 1 else 0.0,
            "fraction_saturated": saturated,
            "fraction_dead": (~units_alive.any(dim=0)).float().mean().item(),
            "fraction_inactive": (~units_positive.any(dim=0)).float().mean().item()}


class ActivationRecorder:
    """Context manager recording each activation module's statistics on the forward passes inside it.

        with diagnostics.ActivationRecorder(model) as recorder:
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
        recorder.rows()  # one dict per activation module, input to output, with "grad_norm" after backward

    Each module keeps the statistics of its latest call. Hooks are removed on exit.
    """

    def __init__(self, model: nn.Module):
        if not isinstance(model, nn.Module):
            raise ValueError(f"ActivationRecorder expects an nn.Module, got {type(model).__name__}")
        self.model = model
        self._handles = []
        self._stats: dict[str, dict] = {}

    def __enter__(self) -> "ActivationRecorder":
        for layer, module in self.model.named_modules():
            name = activations.name_of(module)
            if name is None or not activations.get(name).elementwise:
                continue
            self._handles.append(module.register_forward_hook(self._hook(layer, name)))
        if not self._handles:
            raise ValueError(f"{type(self.model).__name__} has no activation modules of the kinds "
                             f"{list(activations.HIDDEN_ACTIVATIONS)}")
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook(self, layer: str, name: str):
        def hook(module, inputs, output):
            stats = {"layer": layer, **activation_statistics(name, inputs[0], output), "grad_norm": None}
            self._stats[layer] = stats
            if output.requires_grad:
                def store_grad(grad, stats=stats):
                    stats["grad_norm"] = grad.norm().item()  # ‖∂L/∂h‖ for this activation's output
                output.register_hook(store_grad)
        return hook

    def rows(self) -> list[dict]:
        """The recorded statistics, one plain dict per activation module, in the order they ran."""
        return [dict(stats) for stats in self._stats.values()]


def gradient_ratio(norms: list[float]) -> float:
    """First-layer over last-layer gradient norm: ≪ 1 means vanishing, ≫ 1 exploding (inf if the last is 0)."""
    if len(norms) < 2:
        raise ValueError(f"gradient_ratio needs at least two layers, got {len(norms)}")
    return norms[0] / norms[-1] if norms[-1] > 0 else math.inf
