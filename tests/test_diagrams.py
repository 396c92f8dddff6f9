import inspect
import io
import warnings

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from torch import nn

from gan_course import diagrams


def render(fig: Figure):
    """Draw on an Agg canvas (a missing glyph warns, and warnings fail here); return the canvas."""
    canvas = FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        canvas.draw()
    return canvas


def texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_text())


@pytest.mark.parametrize("name", sorted(diagrams.DIAGRAMS))
def test_every_diagram_draws_legibly(name):
    fig = diagrams.DIAGRAMS[name]()
    assert isinstance(fig, Figure)
    width, height = fig.get_size_inches()
    assert 8 <= width <= 10 and height <= 9
    renderer = render(fig).get_renderer()
    shown = [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    assert shown and min(t.get_fontsize() for t in shown) >= 9
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in shown]
    for text, box in boxes:  # nothing cut off at the figure's edge
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height, text
    for k, (text, box) in enumerate(boxes):  # no two labels on top of each other
        for other, other_box in boxes[k + 1:]:
            overlap_x = min(box.x1, other_box.x1) - max(box.x0, other_box.x0)
            overlap_y = min(box.y1, other_box.y1) - max(box.y0, other_box.y0)
            assert overlap_x <= 1 or overlap_y <= 1, (text, other)


@pytest.mark.parametrize("name", sorted(diagrams.DIAGRAMS))
def test_diagrams_are_deterministic(name):
    first, second = (np.asarray(render(diagrams.DIAGRAMS[name]()).buffer_rgba()) for _ in range(2))
    np.testing.assert_array_equal(first, second)


def test_registry_lists_every_diagram():
    public = {name for name, value in vars(diagrams).items() if inspect.isfunction(value)
              and value.__module__ == diagrams.__name__ and not name.startswith("_")}
    assert set(diagrams.DIAGRAMS) == public
    assert all(diagrams.DIAGRAMS[name].__name__ == name for name in diagrams.DIAGRAMS)
    fig = diagrams.fully_connected_layer()
    fig.savefig(io.BytesIO(), format="png")  # a plain Figure saves without pyplot


def test_fully_connected_layer_labels():
    shown = texts(diagrams.fully_connected_layer(n_in=5, n_out=2))
    assert "y = φ(W x + b)" in shown and "(B, n_in) → Y (B, n_out) = (B, 5) → (B, 2)" in shown
    assert "5·2 + 2 = 12" in shown
    assert "$x_5$" in shown and "$y_2$" in shown and "$W_{15}$" in shown and "$+b_2$" in shown


def test_tensor_strides_match_torch():
    for shape in [(2, 3, 4), (3, 5), (1, 2, 6)]:
        x = torch.arange(int(np.prod(shape))).view(shape)
        t = x.transpose(-1, -2)
        shown = texts(diagrams.tensor_strides(shape))
        assert f"shape {tuple(x.shape)}, strides {x.stride()}" in shown
        assert f"shape {tuple(t.shape)}, strides {t.stride()}" in shown
        order = ", ".join(str(v) for v in t.reshape(-1)[:6].tolist())  # t read row by row, in memory offsets
        assert f"visits offsets {order}" in shown
    assert "12·1 + 4·1 + 1·2 = 18" in texts(diagrams.tensor_strides())


@pytest.mark.parametrize("stride, padding, kernel, size", [(2, 1, 3, 5), (1, 0, 3, 5), (3, 2, 5, 8), (2, 0, 2, 4)])
def test_convolution_formula_matches_conv2d(stride, padding, kernel, size):
    out = nn.Conv2d(1, 1, kernel, stride, padding)(torch.zeros(1, 1, size, size)).shape[-1]
    shown = texts(diagrams.convolution_stride_padding(stride, padding, kernel, size))
    assert f"⌊(n + 2p − k)/s⌋ + 1 = ⌊({size} + 2·{padding} − {kernel})/{stride}⌋ + 1 = {out}" in shown
    assert f"output {out}×{out}" in shown


def test_multichannel_convolution_shapes_and_parameters():
    conv = nn.Conv2d(4, 3, 5)
    shown = texts(diagrams.multichannel_convolution(c_in=4, c_out=3, kernel=5))
    assert "(C_out, C_in, k, k)" in shown and f"= {tuple(conv.weight.shape)}" in shown
    assert f"= {sum(p.numel() for p in conv.parameters())}" in shown
    assert "sum over all C_in = 4 input channels" in shown and "W[2, 3]" in shown


@pytest.mark.parametrize("function, kwargs, message", [
    (diagrams.fully_connected_layer, {"n_in": 0}, "n_in.*0"),
    (diagrams.fully_connected_layer, {"n_out": 40}, "n_out=40"),
    (diagrams.tensor_strides, {"shape": (2, 3, 4, 5)}, r"\(2, 3, 4, 5\)"),
    (diagrams.tensor_strides, {"shape": (6, 6, 6)}, "216"),
    (diagrams.tensor_strides, {"shape": (2, 0)}, r"shape\[1\].*0"),
    (diagrams.convolution_stride_padding, {"stride": 0}, "stride.*0"),
    (diagrams.convolution_stride_padding, {"kernel": 5, "size": 2, "padding": 1}, "kernel=5"),
    (diagrams.convolution_stride_padding, {"padding": -1}, "padding.*-1"),
    (diagrams.multichannel_convolution, {"c_in": 5}, "c_in=5"),
    (diagrams.multichannel_convolution, {"kernel": 2.5}, "kernel.*2.5"),
])
def test_bad_arguments_raise_value_error_naming_the_value(function, kwargs, message):
    with pytest.raises(ValueError, match=message):
        function(**kwargs)
