"""A small convolutional classifier for 28×28 grey images: the course's Fashion-MNIST "judge" (lesson 04).

    (B,1,28,28) conv3×3(16)-BN-ReLU-maxpool → (B,16,14,14) conv3×3(32)-BN-ReLU-maxpool → (B,32,7,7)
    conv3×3(64)-BN-ReLU → (B,64,7,7) flatten-dropout → linear(128)-ReLU = features → dropout-linear(10) = logits
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

IMAGE_SHAPE = (1, 28, 28)  # (C, H, W) the model accepts, values in [-1, 1]


@dataclass(frozen=True)
class FashionCNNConfig:
    """Architecture settings; saved beside the weights so a changed model is retrained, not half-loaded."""
    channels: tuple[int, int, int] = (16, 32, 64)
    feature_dim: int = 128
    num_classes: int = 10
    dropout: float = 0.25

    def as_meta(self) -> dict:
        return {"arch": "FashionCNN", "channels": list(self.channels), "feature_dim": self.feature_dim,
                "num_classes": self.num_classes, "dropout": self.dropout}


def conv_block(in_channels: int, out_channels: int, pool: bool) -> nn.Sequential:
    """conv3×3 (padding 1, so H and W stay) → BatchNorm → ReLU → optional 2×2 max-pool (halves H and W)."""
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),  # BN adds the bias
              nn.BatchNorm2d(out_channels), nn.ReLU()]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class FashionCNN(nn.Module):
    """Three conv blocks and two linear layers: ``forward(x) -> logits (B, K)``, ``features(x) -> (B, D)``."""

    def __init__(self, config: FashionCNNConfig | None = None):
        super().__init__()
        self.config = config or FashionCNNConfig()
        if not 0.0 <= self.config.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.config.dropout}")
        c1, c2, c3 = self.config.channels
        self.body = nn.Sequential(
            conv_block(IMAGE_SHAPE[0], c1, pool=True),  # (B, 1, 28, 28) -> (B, c1, 14, 14)
            conv_block(c1, c2, pool=True),  # -> (B, c2, 7, 7)
            conv_block(c2, c3, pool=False),  # -> (B, c3, 7, 7)
        )
        self.head = nn.Sequential(
            nn.Flatten(),  # (B, c3, 7, 7) -> (B, c3*49)
            nn.Dropout(self.config.dropout),
            nn.Linear(c3 * 7 * 7, self.config.feature_dim),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Dropout(self.config.dropout),
                                        nn.Linear(self.config.feature_dim, self.config.num_classes))

    @staticmethod
    def check_input(x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"FashionCNN expects images of shape (B, 1, 28, 28) in [-1, 1], got {shape}; "
                             "add the channel axis with x.unsqueeze(1) if you have (B, 28, 28)")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations ``(B, D)`` (D = feature_dim), the features FID-style metrics compare."""
        self.check_input(x)
        return self.head(self.body(x))  # (B, 1, 28, 28) -> (B, c3, 7, 7) -> (B, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(B, K)``; ``softmax(logits)`` gives class probabilities."""
        return self.classifier(self.features(x))  # (B, D) -> (B, K)
