"""The discriminator of the semi-supervised GAN (Salimans et al., 2016), a K-class classifier (lesson 13; its
losses and trainer are in ``training.semi_supervised``)."""

from __future__ import annotations

import torch
from torch import nn

from gan_course.core import runtime

IMAGE_SIZE = 28
FEATURES = 128


class SemiSupervisedDiscriminator(nn.Module):
    """Images (B, 1, 28, 28) → K class logits (B, K); ``features`` (B, 128) is what feature matching compares.

    No BatchNorm (fakes must not share statistics with real images); optional Gaussian input noise while training.
    """

    def __init__(self, num_classes: int = 10, base_channels: int = 32, dropout: float = 0.3,
                 input_noise: float = 0.15):
        super().__init__()
        runtime.check_positive(num_classes=num_classes, base_channels=base_channels)
        if not 0 <= dropout < 1 or input_noise < 0:
            raise ValueError(f"dropout must lie in [0, 1) and input_noise be >= 0, got {dropout}, {input_noise}")
        self.num_classes, self.input_noise = num_classes, input_noise
        wide = 2 * base_channels
        self.body = nn.Sequential(
            nn.Conv2d(1, base_channels, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # 28 -> 14
            nn.Conv2d(base_channels, wide, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # 14 -> 7
            nn.Flatten(),  # (B, 2C, 7, 7) -> (B, 2C*49)
            nn.Linear(wide * 49, FEATURES), nn.LeakyReLU(0.2))
        self.classes = nn.Linear(FEATURES, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"SemiSupervisedDiscriminator expects images (B, 1, 28, 28), got {tuple(x.shape)}")
        if self.training and self.input_noise > 0:
            x = x + self.input_noise * torch.randn_like(x)
        return self.body(x)  # (B, 1, 28, 28) -> (B, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classes(self.features(x))  # (B, 128) -> (B, K)
