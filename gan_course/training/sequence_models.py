"""Training and evaluation of the sequence models: the recurrent classifiers of lesson 05 (``models.rnn``) and the
toy BERT's pre-training loss and accuracies (lesson 07, ``models.bert``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import runtime
from gan_course.models import bert, rnn


def train_sequence_classifier(model: rnn.SequenceClassifier, sample, steps: int, batch_size: int = 64, lr: float = 1e-2,
                              max_grad_norm: float = 1.0, generator: torch.Generator | None = None) -> list:
    """Adam on cross-entropy with gradient clipping; ``sample(batch_size, generator)`` draws fresh
    ``(inputs (B, T, D), labels (B,))`` every step. Returns the loss of every step."""
    runtime.check_positive(steps=steps, batch_size=batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for step in range(steps):
        inputs, labels = sample(batch_size, generator)
        loss = nn.functional.cross_entropy(model(inputs), labels)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss.item()} at step {step}; lower lr (now {lr})")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)  # rescale if ‖g‖ > max_grad_norm
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    return losses


def pretraining_losses(output: bert.BertOutput, mlm_labels: torch.Tensor, nsp_labels: torch.Tensor
                       ) -> dict[str, torch.Tensor]:
    """``loss = CE_MLM (over selected positions only) + CE_NSP``; returns the three as tensors."""
    if mlm_labels.shape != output.mlm_logits.shape[:2]:
        raise ValueError(f"mlm_labels must be (B, T) = {tuple(output.mlm_logits.shape[:2])}, "
                         f"got {tuple(mlm_labels.shape)}")
    if nsp_labels.shape != output.nsp_logits.shape[:1]:
        raise ValueError(f"nsp_labels must be (B,) = {tuple(output.nsp_logits.shape[:1])}, "
                         f"got {tuple(nsp_labels.shape)}")
    mlm = F.cross_entropy(output.mlm_logits.flatten(0, 1), mlm_labels.flatten(), ignore_index=bert.IGNORE_INDEX)
    nsp = F.cross_entropy(output.nsp_logits, nsp_labels)
    return {"loss": mlm + nsp, "mlm": mlm, "nsp": nsp}


@torch.no_grad()
def evaluate_bert(model: bert.ToyBert, batch: dict[str, torch.Tensor], mlm_inputs: torch.Tensor, mlm_labels: torch.Tensor,
                  baseline_token: int) -> dict[str, float]:
    """Accuracies of a pre-trained model, in eval mode: ``mlm_accuracy`` (MLM argmax at positions with labels ≠ -100),
    ``unigram_accuracy`` (always ``baseline_token``) and ``nsp_accuracy`` (NSP argmax on the clean pairs)."""
    if mlm_inputs.shape != batch["tokens"].shape or mlm_labels.shape != batch["tokens"].shape:
        raise ValueError(f"mlm_inputs {tuple(mlm_inputs.shape)} and mlm_labels {tuple(mlm_labels.shape)} must "
                         f"match batch['tokens'] {tuple(batch['tokens'].shape)}")
    selected = mlm_labels != bert.IGNORE_INDEX
    if not selected.any():
        raise ValueError("no position is selected in mlm_labels; nothing to evaluate")
    with runtime.evaluating(model):
        masked = model(mlm_inputs, batch["segments"], batch["padding_mask"])
        clean = model(batch["tokens"], batch["segments"], batch["padding_mask"])
    targets = mlm_labels[selected]
    return {
        "mlm_accuracy": (masked.mlm_logits[selected].argmax(-1) == targets).float().mean().item(),
        "unigram_accuracy": (targets == baseline_token).float().mean().item(),
        "nsp_accuracy": (clean.nsp_logits.argmax(-1) == batch["nsp_labels"]).float().mean().item(),
    }
