"""Convolution arithmetic against PyTorch's own layers, and receptive fields against input gradients."""

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from gan_course.core import conv_arithmetic as ca
from gan_course.models import cnn


def torch_conv_size(n, kernel, stride, padding, dilation):
    layer = nn.Conv2d(1, 1, (kernel, 1), stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1))
    return layer(torch.zeros(1, 1, n, 1)).shape[2]


GRID = [(n, k, s, p, d) for n, k, s, p, d in itertools.product((1, 5, 28), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2),
                                                               (1, 2, 3))
        if n + 2 * p >= d * (k - 1) + 1]


@pytest.mark.parametrize("n,kernel,stride,padding,dilation", GRID)
def test_conv_output_size_matches_conv2d_on_a_grid(n, kernel, stride, padding, dilation):
    assert ca.conv_output_size(n, kernel, stride, padding, dilation) == \
        torch_conv_size(n, kernel, stride, padding, dilation)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), kernel=st.integers(1, 7), stride=st.integers(1, 4), padding=st.integers(0, 3),
       dilation=st.integers(1, 4))
def test_conv_output_size_matches_conv2d_property(n, kernel, stride, padding, dilation):
    if n + 2 * padding < dilation * (kernel - 1) + 1:
        with pytest.raises(ValueError, match="kernel spans"):
            ca.conv_output_size(n, kernel, stride, padding, dilation)
        with pytest.raises(RuntimeError):
            torch_conv_size(n, kernel, stride, padding, dilation)
    else:
        assert ca.conv_output_size(n, kernel, stride, padding, dilation) == \
            torch_conv_size(n, kernel, stride, padding, dilation)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 20), kernel=st.integers(1, 6), stride=st.integers(1, 4), padding=st.integers(0, 3),
       dilation=st.integers(1, 3), output_padding=st.integers(0, 3))
def test_conv_transpose_output_size_matches_conv_transpose2d(n, kernel, stride, padding, dilation, output_padding):
    if output_padding >= max(stride, dilation):
        with pytest.raises(ValueError, match="output_padding"):
            ca.conv_transpose_output_size(n, kernel, stride, padding, output_padding, dilation)
        return
    expected = (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if expected < 1:
        with pytest.raises(ValueError, match="removes the whole output"):
            ca.conv_transpose_output_size(n, kernel, stride, padding, output_padding, dilation)
        return
    layer = nn.ConvTranspose2d(1, 1, (kernel, 1), stride=(stride, 1), padding=(padding, 0),
                               output_padding=(output_padding, 0), dilation=(dilation, 1))
    assert ca.conv_transpose_output_size(n, kernel, stride, padding, output_padding, dilation) == \
        layer(torch.zeros(1, 1, n, 1)).shape[2]


def test_dcgan_sizes():
    # the DCGAN generator path 7 -> 14 -> 28 with kernel 4, stride 2, padding 1
    assert ca.conv_transpose_output_size(7, 4, 2, 1) == 14
    assert ca.conv_transpose_output_size(14, 4, 2, 1) == 28
    # and the strided convolution undoes it
    assert ca.conv_output_size(28, 4, 2, 1) == 14


@pytest.mark.parametrize("n,kernel,stride,padding", [(28, 2, 2, 0), (28, 3, 2, 1), (7, 3, 3, 1), (9, 2, 1, 1)])
def test_pooling_uses_the_same_formula(n, kernel, stride, padding):
    x = torch.zeros(1, 1, n, n)
    assert nn.MaxPool2d(kernel, stride, padding)(x).shape[2] == ca.conv_output_size(n, kernel, stride, padding)
    assert nn.AvgPool2d(kernel, stride, padding)(x).shape[2] == ca.conv_output_size(n, kernel, stride, padding)


@pytest.mark.parametrize("call,match", [
    (lambda: ca.conv_output_size(0, 3), "n must be an int >= 1, got 0"),
    (lambda: ca.conv_output_size(5, 0), "kernel must be an int >= 1"),
    (lambda: ca.conv_output_size(5, 3, stride=0), "stride"),
    (lambda: ca.conv_output_size(5, 3, padding=-1), "padding"),
    (lambda: ca.conv_output_size(5, 3, dilation=0), "dilation"),
    (lambda: ca.conv_output_size(5.0, 3), "got 5.0"),
    (lambda: ca.conv_output_size(2, 3, dilation=2), "spans 5 pixels"),
    (lambda: ca.conv_transpose_output_size(4, 3, stride=2, output_padding=2), "output_padding=2"),
    (lambda: ca.receptive_field([(3, 1, 1), "conv"]), "layer 1 must be a Layer"),
    (lambda: ca.receptive_field([(3, 0, 1)]), "layer 0 stride"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_receptive_field_of_known_stacks():
    # two 3x3 convolutions see 5x5, three see 7x7 (Simonyan & Zisserman's VGG argument)
    assert [f.size for f in ca.receptive_field([(3, 1, 1)] * 3)] == [3, 5, 7]
    fields = ca.receptive_field([(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0)])
    assert [(f.size, f.jump) for f in fields] == [(3, 1), (4, 2), (8, 2), (10, 4)]
    assert fields[-1].start == 1.5  # the first unit of the last layer is centred between pixels 1 and 2
    assert ca.receptive_field([ca.Layer(3, dilation=2), ca.Layer(3, dilation=4)])[-1].size == 1 + 4 + 8


def empirical_field(layers, n, index):
    """Rows of the input that get a nonzero gradient from output unit (index, index), with positive weights."""
    modules = []
    for layer in layers:
        conv = nn.Conv2d(1, 1, layer.kernel, layer.stride, layer.padding, layer.dilation, bias=False)
        nn.init.constant_(conv.weight, 1.0)  # positive weights: no cancellation hides a pixel
        modules.append(conv)
    x = torch.ones(1, 1, n, n, requires_grad=True)
    out = nn.Sequential(*modules)(x)
    out[0, 0, index, index].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    return int(rows.min()), int(rows.max()), out.shape[2]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)),
                min_size=1, max_size=4))
def test_receptive_field_matches_input_gradients(specs):
    layers = [ca.Layer(k, s, min(p, k - 1), d) for k, s, p, d in specs]
    n = 96
    try:
        sizes = [n]
        for layer in layers:
            sizes.append(ca.conv_output_size(sizes[-1], layer.kernel, layer.stride, layer.padding, layer.dilation))
    except ValueError:
        return  # the stack shrinks the image away; nothing to measure
    field = ca.receptive_field(layers)[-1]
    index = sizes[-1] // 2
    first, last, out_size = empirical_field(layers, n, index)
    assert out_size == sizes[-1]
    low, high = field.span(index)
    assert low <= first and last <= high  # nothing outside the predicted field gets a gradient
    if low >= 0 and high <= n - 1:
        # inside the image the field's two ends are real taps (the extreme tap of every layer), so they match
        assert (first, last) == (low, high) and last - first + 1 == field.size


def test_layers_of_reads_the_fashion_cnn():
    layers = ca.layers_of(cnn.FashionCNN())
    assert [(layer.kernel, layer.stride, layer.padding) for layer in layers] == \
        [(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0), (3, 1, 1)]
    fields = ca.receptive_field(cnn.FashionCNN())
    assert (fields[-1].size, fields[-1].jump) == (18, 4)
