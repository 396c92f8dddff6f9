"""Convolution arithmetic: output sizes of (transposed) convolutions and pooling, and receptive fields.

Dumoulin & Visin (2016), with PyTorch's dilation convention; receptive fields: Araujo et al. (Distill, 2019).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from gan_course.core import runtime


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: ``d·(k − 1) + 1`` input pixels."""
    runtime.check_int("kernel", kernel, 1)
    runtime.check_int("dilation", dilation, 1)
    return dilation * (kernel - 1) + 1


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one axis: ``⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1``."""
    runtime.check_int("n", n, 1)
    runtime.check_int("stride", stride, 1)
    runtime.check_int("padding", padding, 0)
    span = effective_kernel(kernel, dilation)
    if n + 2 * padding < span:
        raise ValueError(f"the kernel spans {span} pixels (kernel={kernel}, dilation={dilation}) but the padded "
                         f"input has only n + 2p = {n} + 2·{padding} = {n + 2 * padding}")
    return (n + 2 * padding - span) // stride + 1


def conv_transpose_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0,
                               dilation: int = 1) -> int:
    """Transposed-convolution output length ``(n − 1)s − 2p + d(k − 1) + output_padding + 1``."""
    runtime.check_int("n", n, 1)
    runtime.check_int("stride", stride, 1)
    runtime.check_int("padding", padding, 0)
    runtime.check_int("output_padding", output_padding, 0)
    span = effective_kernel(kernel, dilation)
    if output_padding >= max(stride, dilation):
        raise ValueError(f"output_padding={output_padding} must be smaller than stride ({stride}) or dilation "
                         f"({dilation})")
    size = (n - 1) * stride - 2 * padding + span - 1 + output_padding + 1
    if size < 1:
        raise ValueError(f"padding={padding} removes the whole output: (n−1)s − 2p + d(k−1) + op + 1 = {size}")
    return size


@dataclass(frozen=True)
class Layer:
    """The geometry of one sliding-window layer (convolution or pooling) along one axis."""
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    name: str = ""


@dataclass(frozen=True)
class ReceptiveField:
    """After a layer: ``size`` input pixels seen by one unit, ``jump`` input pixels between neighbouring units,
    ``start`` the input coordinate of the centre of the first unit's field (negative = inside the padding)."""
    name: str
    size: int
    jump: int
    start: float

    def center(self, index: int) -> float:
        """Input coordinate of the centre of unit ``index``'s receptive field: ``start + index·jump``."""
        return self.start + index * self.jump

    def span(self, index: int) -> tuple[float, float]:
        """First and last input pixel unit ``index`` sees (before clipping to the image)."""
        half = (self.size - 1) / 2
        return self.center(index) - half, self.center(index) + half


def receptive_field(layers) -> list[ReceptiveField]:
    """Receptive field after every layer, from the input (size 1, jump 1, start 0), with ``k_eff = d(k − 1) + 1``:

    ``size ← size + (k_eff − 1)·jump;  start ← start + ((k_eff − 1)/2 − p)·jump;  jump ← jump·s``.
    ``layers``: ``Layer`` objects, ``(kernel, stride, padding[, dilation])`` tuples, or an ``nn.Module``.
    """
    if isinstance(layers, nn.Module):
        layers = layers_of(layers)
    size, jump, start = 1, 1, 0.0
    fields = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            if not isinstance(layer, (tuple, list)) or not 1 <= len(layer) <= 4:
                raise ValueError(f"layer {index} must be a Layer or a (kernel, stride, padding[, dilation]) tuple, "
                                 f"got {layer!r}")
            layer = Layer(*layer)
        runtime.check_int(f"layer {index} stride", layer.stride, 1)
        runtime.check_int(f"layer {index} padding", layer.padding, 0)
        span = effective_kernel(layer.kernel, layer.dilation)
        size = size + (span - 1) * jump
        start = start + ((span - 1) / 2 - layer.padding) * jump
        jump = jump * layer.stride
        fields.append(ReceptiveField(layer.name or f"layer {index}", size, jump, start))
    return fields


def _first(value):
    return value[0] if isinstance(value, tuple) else value


def layers_of(module: nn.Module) -> list[Layer]:
    """The ``Conv2d``/``MaxPool2d``/``AvgPool2d`` layers of ``module`` in registration order (= forward order)."""
    found = []
    for name, child in module.named_modules():
        if isinstance(child, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            if isinstance(child, nn.Conv2d) and child.padding == "same":
                raise ValueError(f"{name}: padding='same' is not supported; give the padding as a number")
            dilation = _first(getattr(child, "dilation", 1))
            found.append(Layer(_first(child.kernel_size), _first(child.stride), _first(child.padding),
                               dilation, f"{name} ({type(child).__name__})"))
    return found
