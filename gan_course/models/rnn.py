"""Recurrent networks written out: the vanilla RNN cell, one LSTM step, and small sequence classifiers (lesson 05).

``ManualRNN``: ``h_t = tanh(W_x x_t + W_h h_{t−1} + b)`` (Elman, 1990); ``lstm_step`` in ``nn.LSTMCell``'s gate order
(Hochreiter & Schmidhuber, 1997; Gers et al., 2000).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_course.core import runtime

RECURRENT_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM}


def _check_sequence(x: torch.Tensor, input_dim: int, who: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[2] != input_dim:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{who} expects a batch of sequences (B, T, D) with D = {input_dim}, got {shape}")


class ManualRNN(nn.Module):
    """A one-layer tanh RNN, step by step: ``h_t = tanh(W_x x_t + W_h h_{t−1} + b)``, ``h_0 = 0``."""

    def __init__(self, input_dim: int, hidden_dim: int):
        super().__init__()
        runtime.check_positive(input_dim=input_dim, hidden_dim=hidden_dim)
        self.input_dim, self.hidden_dim = input_dim, hidden_dim
        bound = 1 / math.sqrt(hidden_dim)  # nn.RNN's initialisation: U(−1/√H, 1/√H)
        self.weight_x = nn.Parameter(torch.empty(hidden_dim, input_dim).uniform_(-bound, bound))  # W_x (H, D)
        self.weight_h = nn.Parameter(torch.empty(hidden_dim, hidden_dim).uniform_(-bound, bound))  # W_h (H, H)
        self.bias = nn.Parameter(torch.empty(hidden_dim).uniform_(-bound, bound))  # b (H,)

    @torch.no_grad()
    def copy_from(self, rnn: nn.RNN) -> "ManualRNN":
        """Take the weights of a one-layer, unidirectional, tanh ``nn.RNN`` (its two biases add up to ``b``)."""
        if rnn.num_layers != 1 or rnn.bidirectional or rnn.nonlinearity != "tanh" or not rnn.bias:
            raise ValueError("copy_from needs nn.RNN(num_layers=1, bidirectional=False, nonlinearity='tanh', "
                             "bias=True)")
        if (rnn.input_size, rnn.hidden_size) != (self.input_dim, self.hidden_dim):
            raise ValueError(f"nn.RNN has sizes (D={rnn.input_size}, H={rnn.hidden_size}), this ManualRNN has "
                             f"(D={self.input_dim}, H={self.hidden_dim})")
        self.weight_x.copy_(rnn.weight_ih_l0)
        self.weight_h.copy_(rnn.weight_hh_l0)
        self.bias.copy_(rnn.bias_ih_l0 + rnn.bias_hh_l0)
        return self

    def step(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """One step: ``(B, D), (B, H) -> (B, H)``."""
        return torch.tanh(x_t @ self.weight_x.T + h_prev @ self.weight_h.T + self.bias)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, list]:
        """Run over ``x (B, T, D)``; return ``outputs (B, T, H)`` and the list ``[h_0, h_1, …, h_T]``.

        Every ``h_t`` in the list is a node of the autograd graph, so ``torch.autograd.grad(loss, states)``
        gives ``∂L/∂h_t`` through time.
        """
        _check_sequence(x, self.input_dim, "ManualRNN")
        if h0 is None:  # zeros that still take part in autograd, so ∂L/∂h_0 can be asked for
            h0 = x.new_zeros(x.shape[0], self.hidden_dim).requires_grad_(torch.is_grad_enabled())
        h = h0  # (B, H)
        states = [h]
        for t in range(x.shape[1]):
            h = self.step(x[:, t], h)  # (B, D), (B, H) -> (B, H)
            states.append(h)
        return torch.stack(states[1:], dim=1), states  # (B, T, H)


def lstm_step(x_t: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor, cell: nn.LSTMCell):
    """One LSTM step with ``cell``'s weights (gates i, f, g, o in that order):

    ``i, f, o = σ(·), g = tanh(·)`` of ``W_x x_t + W_h h_{t−1} + b``;  ``c_t = f ⊙ c_{t−1} + i ⊙ g``;
    ``h_t = o ⊙ tanh(c_t)``. The cell state is updated by addition, so along the cell path ``∂c_t/∂c_{t−1} = f``
    (no matrix, no tanh'); the full Jacobian adds terms through ``h_{t−1}`` and the gates, which do involve ``W_h``.
    """
    gates = x_t @ cell.weight_ih.T + h_prev @ cell.weight_hh.T + cell.bias_ih + cell.bias_hh  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=1)  # 4 × (B, H)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c


def lstm_cell_from(lstm: nn.LSTM) -> nn.LSTMCell:
    """An ``nn.LSTMCell`` holding the weights of a one-layer, unidirectional ``nn.LSTM`` (to unroll it by hand)."""
    if lstm.num_layers != 1 or lstm.bidirectional or lstm.proj_size or not lstm.bias:
        raise ValueError("lstm_cell_from needs nn.LSTM(num_layers=1, bidirectional=False, proj_size=0, bias=True)")
    cell = nn.LSTMCell(lstm.input_size, lstm.hidden_size)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(lstm, f"{name}_l0"))
    return cell


def unroll_lstm(cell: nn.LSTMCell, x: torch.Tensor) -> tuple[list, list]:
    """Run ``lstm_step`` over ``x (B, T, D)`` from zero states; return ``[h_0…h_T]`` and ``[c_0…c_T]``."""
    _check_sequence(x, cell.input_size, "unroll_lstm")
    h = x.new_zeros(x.shape[0], cell.hidden_size).requires_grad_(torch.is_grad_enabled())  # (B, H)
    c = x.new_zeros(x.shape[0], cell.hidden_size).requires_grad_(torch.is_grad_enabled())  # (B, H)
    hs, cs = [h], [c]
    for t in range(x.shape[1]):
        h, c = lstm_step(x[:, t], h, c, cell)
        hs.append(h)
        cs.append(c)
    return hs, cs


class SequenceClassifier(nn.Module):
    """``nn.RNN`` or ``nn.LSTM`` (``kind``) over ``(B, T, D)``; a linear head reads the last hidden state.

    ``forget_bias`` (LSTM only) sets the forget gate's bias ``b_f``: the cell keeps ``σ(b_f)`` of itself per step
    at the start of training (σ(1) ≈ 0.73, σ(3) ≈ 0.95).
    """

    def __init__(self, kind: str, input_dim: int, hidden_dim: int, num_outputs: int, forget_bias: float = 1.0):
        super().__init__()
        layer = runtime.lookup(RECURRENT_LAYERS, kind, "kind")
        self.kind, self.input_dim = kind, input_dim
        self.recurrent = layer(input_dim, hidden_dim, batch_first=True)
        if kind == "lstm":
            # start by remembering: forget gate f = σ(b_f) near 1 (b_f = 1: Jozefowicz et al., 2015; larger b_f
            # for longer delays: Tallec & Ollivier, 2018). The two biases add up, so each gets half.
            with torch.no_grad():
                for bias in (self.recurrent.bias_ih_l0, self.recurrent.bias_hh_l0):
                    bias[hidden_dim:2 * hidden_dim] = forget_bias / 2
        self.head = nn.Linear(hidden_dim, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (or regression outputs) ``(B, num_outputs)`` from the hidden state after the last step."""
        _check_sequence(x, self.input_dim, f"SequenceClassifier({self.kind!r})")
        outputs, _ = self.recurrent(x)  # (B, T, D) -> (B, T, H)
        return self.head(outputs[:, -1])  # (B, H) -> (B, num_outputs)
