"""Transformer blocks and a small encoder for token tasks (Vaswani et al., 2017, "Attention Is All You Need").

Pre-norm by default (``norm_first=True``: ``x + f(LN(x))``); ``norm_first=False`` is the paper's post-norm. Lesson 06
trains ``TokenEncoder``; lesson 07 builds a toy BERT on ``EncoderStack``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from gan_course.models import attention
from gan_course.models.mlp import parameter_count as count_parameters  # noqa: F401  (the one counter, lesson 01)


class FeedForward(nn.Module):
    """Position-wise two-layer MLP: ``FFN(x) = W₂ GELU(W₁ x + b₁) + b₂``, applied to every token alone."""

    def __init__(self, dim: int, hidden_dim: int, dropout: float = 0.0):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, dim),
                                    nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)  # (B, T, D) -> (B, T, D)


class EncoderBlock(nn.Module):
    """Self-attention then feed-forward, each with a residual connection.

    Pre-norm: ``x = x + MHA(LN(x))``, ``x = x + FFN(LN(x))``. Post-norm: ``x = LN(x + MHA(x))``, ``x = LN(x + FFN(x))``.
    """

    def __init__(self, dim: int, num_heads: int, hidden_dim: int, dropout: float = 0.0, norm_first: bool = True):
        super().__init__()
        self.norm_first = norm_first
        self.attention = attention.MultiHeadAttention(dim, num_heads, dropout)
        self.feed_forward = FeedForward(dim, hidden_dim, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None,
                attn_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` (B, T, D) -> (B, T, D) and the per-head attention weights (B, H, T, T).

        ``padding_mask`` (B, T) is True at padding tokens, which no token attends to.
        """
        if x.ndim != 3 or x.shape[-1] != self.attention.embed_dim:
            raise ValueError(f"EncoderBlock expects (B, T, {self.attention.embed_dim}), got {tuple(x.shape)}")
        if self.norm_first:
            h = self.norm1(x)
            h, weights = self.attention(h, h, h, padding_mask, attn_mask, average_weights=False)
            x = x + self.dropout(h)
            x = x + self.feed_forward(self.norm2(x))
        else:
            h, weights = self.attention(x, x, x, padding_mask, attn_mask, average_weights=False)
            x = self.norm1(x + self.dropout(h))
            x = self.norm2(x + self.feed_forward(x))
        return x, weights


class DecoderBlock(nn.Module):
    """Causal self-attention, cross-attention to the encoder output ("memory"), feed-forward; pre-norm.

    ``x = x + MHA(LN(x), causal)``, ``x = x + MHA(LN(x), memory)``, ``x = x + FFN(LN(x))``.
    """

    def __init__(self, dim: int, num_heads: int, hidden_dim: int, dropout: float = 0.0):
        super().__init__()
        self.self_attention = attention.MultiHeadAttention(dim, num_heads, dropout)
        self.cross_attention = attention.MultiHeadAttention(dim, num_heads, dropout)
        self.feed_forward = FeedForward(dim, hidden_dim, dropout)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """``x`` (B, T, D) target tokens so far, ``memory`` (B, S, D) encoder output -> (B, T, D)."""
        dim = self.self_attention.embed_dim
        if x.ndim != 3 or x.shape[-1] != dim or memory.ndim != 3 or memory.shape[-1] != dim:
            raise ValueError(f"DecoderBlock expects x (B, T, {dim}) and memory (B, S, {dim}), "
                             f"got {tuple(x.shape)} and {tuple(memory.shape)}")
        h = self.norm1(x)
        x = x + self.self_attention(h, h, h, attn_mask=attention.causal_mask(x.shape[1], x.device))[0]
        h = self.norm2(x)
        x = x + self.cross_attention(h, memory, memory)[0]  # queries from the decoder, keys/values from the encoder
        return x + self.feed_forward(self.norm3(x))


@dataclass
class EncoderSizes:
    """The sizes every encoder of the course shares (``TransformerConfig`` here, ``bert.BertConfig``)."""

    vocab_size: int
    max_len: int = 32
    dim: int = 64
    num_heads: int = 4
    num_layers: int = 2
    hidden_dim: int = 128
    dropout: float = 0.0


@dataclass
class TransformerConfig(EncoderSizes):
    """Sizes of a small encoder, its number of outputs per token (keyword-only) and its positional encoding (a key
    of ``attention.POSITIONAL_ENCODINGS``)."""

    num_outputs: int = field(kw_only=True)
    positional: str = "sinusoidal"
    norm_first: bool = True


class EncoderStack(nn.Module):
    """``num_layers`` encoder blocks (plus a final LayerNorm when pre-norm) over embeddings (B, T, D)."""

    def __init__(self, dim: int, num_heads: int, hidden_dim: int, num_layers: int, dropout: float = 0.0,
                 norm_first: bool = True):
        super().__init__()
        self.blocks = nn.ModuleList(EncoderBlock(dim, num_heads, hidden_dim, dropout, norm_first)
                                    for _ in range(num_layers))
        # pre-norm leaves the residual stream un-normalised, so one last LayerNorm before any head
        self.final_norm = nn.LayerNorm(dim) if norm_first else nn.Identity()

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Return the hidden states (B, T, D) and one (B, H, T, T) attention tensor per layer."""
        maps = []
        for block in self.blocks:
            x, weights = block(x, padding_mask)
            maps.append(weights)
        return self.final_norm(x), maps


class TokenEncoder(nn.Module):
    """Token embedding + positional encoding + encoder stack + linear head: ``logits[b, t] = W h_t``."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.dim)
        nn.init.normal_(self.token_embedding.weight, std=config.dim ** -0.5)  # × √D in forward -> std 1, like PE
        self.position = attention.positional_encoding(config.positional, config.max_len, config.dim)
        self.encoder = EncoderStack(config.dim, config.num_heads, config.hidden_dim, config.num_layers,
                                    config.dropout, config.norm_first)
        self.head = nn.Linear(config.dim, config.num_outputs)

    def forward(self, tokens: torch.Tensor, return_attention: bool = False):
        """``tokens`` (B, T) integer ids -> logits (B, T, num_outputs) [and the per-layer attention maps]."""
        if tokens.ndim != 2 or tokens.dtype != torch.long:
            raise ValueError(f"tokens must be a (B, T) long tensor, got {tokens.dtype} {tuple(tokens.shape)}")
        if tokens.shape[1] > self.config.max_len:
            raise ValueError(f"sequence length {tokens.shape[1]} exceeds max_len={self.config.max_len}")
        x = self.token_embedding(tokens) * self.config.dim ** 0.5  # (B, T) -> (B, T, D); scale as in the paper
        hidden, maps = self.encoder(self.position(x))
        logits = self.head(hidden)  # (B, T, D) -> (B, T, num_outputs)
        return (logits, maps) if return_attention else logits
