"""A toy BERT (Devlin et al., 2019, "BERT: Pre-training of Deep Bidirectional Transformers"), lesson 07.

Token + position + segment embeddings, unmasked encoder blocks from ``transformer.py``, an MLM head (decoder tied to
the token embedding by default) and an NSP head on ``[CLS]``; the losses are in ``training.sequence_models``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_course.models import transformer

IGNORE_INDEX = -100  # MLM labels at positions that were not selected


@dataclass
class BertConfig(transformer.EncoderSizes):
    """The encoder's sizes (``transformer.EncoderSizes``: vocab_size, max_len, dim, ...), then BERT's own."""
    num_segments: int = 2
    tie_weights: bool = True


@dataclass
class BertOutput:
    mlm_logits: torch.Tensor  # (B, T, V)
    nsp_logits: torch.Tensor  # (B, 2): index 1 = "B follows A"
    attention: list  # one (B, H, T, T) tensor per layer


class ToyBert(nn.Module):
    """``h = Encoder(LN(E_tok[x] + E_pos[t] + E_seg[s]))``; MLM logits ``= W_E · LN(GELU(W h))``, NSP on ``h_[CLS]``."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.dim)
        self.position_embedding = nn.Embedding(config.max_len, config.dim)
        self.segment_embedding = nn.Embedding(config.num_segments, config.dim)
        self.embedding_norm = nn.LayerNorm(config.dim)
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = transformer.EncoderStack(config.dim, config.num_heads, config.hidden_dim,
                                                config.num_layers, config.dropout, norm_first=True)
        self.mlm_transform = nn.Sequential(nn.Linear(config.dim, config.dim), nn.GELU(), nn.LayerNorm(config.dim))
        self.mlm_decoder = nn.Linear(config.dim, config.vocab_size)
        if config.tie_weights:
            self.mlm_decoder.weight = self.token_embedding.weight  # one (V, D) matrix for input and output
        self.pooler = nn.Sequential(nn.Linear(config.dim, config.dim), nn.Tanh())
        self.nsp_head = nn.Linear(config.dim, 2)
        for embedding in (self.token_embedding, self.position_embedding, self.segment_embedding):
            nn.init.normal_(embedding.weight, std=0.02)  # BERT's initialiser range

    def forward(self, tokens: torch.Tensor, segments: torch.Tensor | None = None,
                padding_mask: torch.Tensor | None = None) -> BertOutput:
        """``tokens``, ``segments`` (B, T) long; ``padding_mask`` (B, T) True at ``[PAD]``."""
        if tokens.ndim != 2 or tokens.dtype != torch.long:
            raise ValueError(f"tokens must be a (B, T) long tensor, got {tokens.dtype} {tuple(tokens.shape)}")
        if tokens.shape[1] > self.config.max_len:
            raise ValueError(f"sequence length {tokens.shape[1]} exceeds max_len={self.config.max_len}")
        if segments is None:
            segments = torch.zeros_like(tokens)
        for name, extra in (("segments", segments), ("padding_mask", padding_mask)):
            if extra is not None and extra.shape != tokens.shape:
                raise ValueError(f"{name} must match tokens {tuple(tokens.shape)}, got {tuple(extra.shape)}")
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.token_embedding(tokens) + self.position_embedding(positions) + self.segment_embedding(segments)
        x = self.dropout(self.embedding_norm(x))  # (B, T, D)
        hidden, maps = self.encoder(x, padding_mask)  # (B, T, D), [(B, H, T, T)] * layers
        mlm_logits = self.mlm_decoder(self.mlm_transform(hidden))  # (B, T, D) -> (B, T, V)
        nsp_logits = self.nsp_head(self.pooler(hidden[:, 0]))  # [CLS] is position 0: (B, D) -> (B, 2)
        return BertOutput(mlm_logits, nsp_logits, maps)
