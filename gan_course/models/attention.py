"""Attention and positional encodings, written out: the pieces of the Transformer (Vaswani et al., 2017).

Masks follow ``F.scaled_dot_product_attention``: a boolean mask is True where a query MAY attend; a float mask is
added to the scores (0 to keep, ``-inf`` to block).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import runtime


def scaled_dot_product_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention by hand: ``weights = softmax(Q Kᵀ / √d_k + mask)``, ``output = weights V``; returns both.

    Shapes: query (..., T, d_k), key (..., S, d_k), value (..., S, d_v) -> output (..., T, d_v), weights (..., T, S).
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"query, key and value need at least 2 dims (..., T, d), got shapes "
                         f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"query and key must share the last dim d_k, got {query.shape[-1]} and {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"key and value must have the same length S, got {key.shape[-2]} and {value.shape[-2]}")
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])  # (..., T, d) @ (..., d, S) -> (..., T, S)
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
    weights = torch.softmax(scores, dim=-1)  # each query's row sums to 1 over the S keys
    return weights @ value, weights  # (..., T, S) @ (..., S, d_v) -> (..., T, d_v)


def causal_mask(length: int, device=None) -> torch.Tensor:
    """Boolean (T, T) mask, True on and below the diagonal: position t may look at positions ≤ t only."""
    if not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be a positive int, got {length!r}")
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


class MultiHeadAttention(nn.Module):
    """Multi-head attention: ``concat_h softmax(Q_h K_hᵀ/√d_h) V_h`` followed by an output projection.

    ``Q_h = x W_q[h]`` etc. The projections are stored as one ``in_proj`` (D -> 3D) and ``out_proj`` (D -> D),
    the layout of ``nn.MultiheadAttention`` with ``batch_first=True``, so weights copy across one to one.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.in_proj = nn.Linear(embed_dim, 3 * embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        self.dropout = nn.Dropout(dropout)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)  # (B, T, D) -> (B, H, T, D/H)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None, attn_mask: torch.Tensor | None = None,
                average_weights: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(output (B, T, D), weights)``; weights are (B, T, S) averaged over heads or (B, H, T, S).

        ``key_padding_mask`` (B, S) is True at padding keys (ignored), as in ``nn.MultiheadAttention``;
        ``attn_mask`` (T, S) follows this module's convention (bool True = may attend, or additive float).
        """
        for name, x in (("query", query), ("key", key), ("value", value)):
            if x.ndim != 3 or x.shape[-1] != self.embed_dim:
                raise ValueError(f"{name} must be (B, T, {self.embed_dim}), got {tuple(x.shape)}")
        w_q, w_k, w_v = self.in_proj.weight.chunk(3)
        b_q, b_k, b_v = self.in_proj.bias.chunk(3)
        q = self._split_heads(F.linear(query, w_q, b_q))  # (B, H, T, D/H)
        k = self._split_heads(F.linear(key, w_k, b_k))  # (B, H, S, D/H)
        v = self._split_heads(F.linear(value, w_v, b_v))  # (B, H, S, D/H)
        mask = None
        if attn_mask is not None:
            mask = attn_mask if attn_mask.dtype == torch.bool else attn_mask.to(q.dtype)
        if key_padding_mask is not None:
            if key_padding_mask.shape != (key.shape[0], key.shape[1]):
                raise ValueError(f"key_padding_mask must be (B, S) = {(key.shape[0], key.shape[1])}, "
                                 f"got {tuple(key_padding_mask.shape)}")
            keep = ~key_padding_mask[:, None, None, :]  # (B, S) -> (B, 1, 1, S), True = may attend
            if mask is None:
                mask = keep
            elif mask.dtype == torch.bool:
                mask = mask & keep
            else:
                mask = torch.where(keep, mask, float("-inf"))  # (T, S) and (B, 1, 1, S) -> (B, 1, T, S)
        out, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, H, T, D/H), (B, H, T, S)
        out = out.transpose(1, 2).reshape(query.shape)  # (B, H, T, D/H) -> (B, T, D)
        out = self.out_proj(self.dropout(out))
        return out, (weights.mean(dim=1) if average_weights else weights)

    def copy_from(self, reference: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy the weights of an ``nn.MultiheadAttention`` with the same sizes (for checking)."""
        if reference.embed_dim != self.embed_dim or reference.num_heads != self.num_heads:
            raise ValueError(f"reference has embed_dim={reference.embed_dim}, num_heads={reference.num_heads}; "
                             f"this module has {self.embed_dim}, {self.num_heads}")
        if reference.in_proj_weight is None or reference.in_proj_bias is None:
            raise ValueError("reference must use a packed in_proj_weight with bias (kdim = vdim = embed_dim)")
        with torch.no_grad():
            self.in_proj.weight.copy_(reference.in_proj_weight)
            self.in_proj.bias.copy_(reference.in_proj_bias)
            self.out_proj.weight.copy_(reference.out_proj.weight)
            self.out_proj.bias.copy_(reference.out_proj.bias)
        return self


def sinusoidal_encoding(max_len: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    """The (max_len, dim) table ``PE[pos, 2i] = sin(pos / base^(2i/dim))``, ``PE[pos, 2i+1] = cos(...)``."""
    if not isinstance(dim, int) or dim < 2 or dim % 2:
        raise ValueError(f"dim must be a positive even int, got {dim!r}")
    if not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"max_len must be a positive int, got {max_len!r}")
    position = torch.arange(max_len, dtype=torch.float64)[:, None]  # (T, 1)
    frequency = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # (dim/2,) = 1 / base^(2i/dim)
    table = torch.zeros(max_len, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table.float()


def offset_rotation(offset: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    """The (dim, dim) block-diagonal rotation R_k with ``PE[pos + k] = R_k PE[pos]`` for every pos.

    Block i is ``[[cos ω_i k, sin ω_i k], [-sin ω_i k, cos ω_i k]]`` with ``ω_i = base^(-2i/dim)``, from
    sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b − sin a sin b.
    """
    if not isinstance(dim, int) or dim < 2 or dim % 2:
        raise ValueError(f"dim must be a positive even int, got {dim!r}")
    angle = offset * base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # (dim/2,)
    cos, sin = torch.cos(angle), torch.sin(angle)
    blocks = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # (dim/2, 2, 2)
    return torch.block_diag(*blocks).float()


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table to token embeddings: ``x + PE[:T]``. Has no trainable parameters."""

    def __init__(self, max_len: int, dim: int):
        super().__init__()
        self.register_buffer("table", sinusoidal_encoding(max_len, dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[-1] != self.table.shape[1] or x.shape[1] > self.table.shape[0]:
            raise ValueError(f"x must be (B, T ≤ {self.table.shape[0]}, {self.table.shape[1]}), "
                             f"got {tuple(x.shape)}")
        return x + self.table[: x.shape[1]]  # (B, T, D) + (T, D)


class LearnedPositionalEmbedding(nn.Module):
    """Adds a trained vector per position: ``x + P[:T]`` (BERT, GPT-2). Cannot go past ``max_len``."""

    def __init__(self, max_len: int, dim: int):
        super().__init__()
        self.embedding = nn.Embedding(max_len, dim)
        nn.init.normal_(self.embedding.weight, std=0.02)

    @property
    def table(self) -> torch.Tensor:
        return self.embedding.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        max_len, dim = self.embedding.weight.shape
        if x.ndim != 3 or x.shape[-1] != dim or x.shape[1] > max_len:
            raise ValueError(f"x must be (B, T ≤ {max_len}, {dim}), got {tuple(x.shape)}")
        return x + self.embedding.weight[: x.shape[1]]  # (B, T, D) + (T, D)


class NoPositionalEncoding(nn.Module):
    """Adds nothing: the ablation that shows attention alone is blind to order (lesson 06)."""

    def __init__(self, max_len: int, dim: int):
        super().__init__()
        self.max_len, self.dim = max_len, dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[-1] != self.dim or x.shape[1] > self.max_len:
            raise ValueError(f"x must be (B, T ≤ {self.max_len}, {self.dim}), got {tuple(x.shape)}")
        return x


POSITIONAL_ENCODINGS = {
    "sinusoidal": SinusoidalPositionalEncoding,
    "learned": LearnedPositionalEmbedding,
    "none": NoPositionalEncoding,
}


def positional_encoding(kind: str, max_len: int, dim: int) -> nn.Module:
    """Build a positional encoding from ``POSITIONAL_ENCODINGS`` by name."""
    return runtime.lookup(POSITIONAL_ENCODINGS, kind, "positional encoding")(max_len, dim)
