import inspect
import io
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from torch import nn

from gan_course.training import gan
from gan_course.teaching import diagrams
from gan_course.data import toy_text
from gan_course.models import dcgan, transformer


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
    before = plt.get_fignums()
    figures = [function() for function in diagrams.DIAGRAMS.values()]
    assert plt.get_fignums() == before  # closed in pyplot: a notebook shows each figure once, when returned
    figures[0].savefig(io.BytesIO(), format="png")


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
        assert f"visits offsets {order}" in shown and not t.is_contiguous()
        with pytest.raises(RuntimeError):
            t.view(-1)  # as the figure says
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


def test_registry_holds_the_lessons_diagrams():
    assert list(diagrams.DIAGRAMS) == [
        "fully_connected_layer", "tensor_strides", "convolution_stride_padding", "multichannel_convolution",
        "unrolled_rnn", "lstm_cell", "transformer_block", "bert_masking", "gan_training_loop", "dcgan_architecture"]


def test_unrolled_rnn_has_one_cell_per_step():
    shown = texts(diagrams.unrolled_rnn(steps=3))
    assert "$x_3$" in shown and "$h_3$" in shown and "$x_4$" not in shown and "T = 3" in shown
    assert r"$h_t = \tanh(W_x x_t + W_h h_{t-1} + b)$" in shown and "SAME $W_x$, $W_h$, $b$" in shown


def test_lstm_cell_gates_and_cell_path():
    shown = texts(diagrams.lstm_cell())
    for gate in ("forget\nf = σ(·)", "input\ni = σ(·)", "candidate\ng = tanh(·)", "output\no = σ(·)"):
        assert gate in shown
    assert r"$c_t = f \odot c_{t-1} + i \odot g$" in shown and r"$h_t = o \odot \tanh(c_t)$" in shown
    assert r"$\partial c_t/\partial c_{t-1} = f$" in shown


def test_transformer_block_matches_the_course_model():
    defaults = inspect.signature(diagrams.transformer_block).parameters
    for name in ("dim", "num_heads", "hidden_dim", "num_layers"):
        assert defaults[name].default == getattr(transformer.TransformerConfig, name)
    assert transformer.TransformerConfig.norm_first is True  # the diagram calls pre-norm the course default
    shown = texts(diagrams.transformer_block())
    assert "course default: pre-norm (norm_first=True)" in shown and "post-norm (norm_first=False)" in shown
    for formula in ("x = x + MHA(LN(x))", "x = x + FFN(LN(x))", "x = LN(x + MHA(x))", "x = LN(x + FFN(x))"):
        assert formula in shown and formula in transformer.EncoderBlock.__doc__
    assert "d_k = D/heads = 16" in shown and "feed-forward 64→128→64" in shown and "× N = 2" in shown
    assert "same weights at every position" in shown
    assert "8 heads, d_k = D/heads = 4" in texts(diagrams.transformer_block(dim=32, num_heads=8, num_layers=6))


def test_bert_masking_example_is_the_tokenizers_pair():
    tokenizer = toy_text.WordTokenizer.for_grammar()
    ids, segments = tokenizer.encode_pair("the cat eats the apple .", "the apple is gone .")
    assert tokenizer.decode(ids).split() == list(diagrams.BERT_EXAMPLE) and tokenizer.unk_id not in ids
    shown = texts(diagrams.bert_masking())
    segment_cells = [t for t in shown.split("\n") if t in ("0", "1")]
    assert segment_cells[:len(segments)] == [str(s) for s in segments]
    for position, (replacement, outcome) in diagrams.BERT_SELECTED.items():
        assert ids[position] >= tokenizer.first_word_id  # only words are ever selected
        assert replacement in tokenizer.vocab and outcome in diagrams.BERT_OUTCOMES
    assert {outcome for _, outcome in diagrams.BERT_SELECTED.values()} == set(diagrams.BERT_OUTCOMES)
    assert "[MASK] in 80 %" in shown and "a random word in 10 %" in shown and "unchanged in 10 %" in shown
    assert str(toy_text.IGNORE_INDEX).replace("-", "−") in shown and "NSP label 1 (IsNext)" in shown


def test_gan_training_loop_names_the_course_steps():
    shown = texts(diagrams.gan_training_loop())
    assert "G\n(frozen)" in shown and "D\n(frozen)" in shown and "d_optimizer.step()" in shown
    assert "−log D(G(z))" in shown and "−log D(x) − log(1 − D(G(z)))" in shown
    assert callable(gan.discriminator_step) and callable(gan.generator_step)


@pytest.mark.parametrize("latent_dim, base_channels", [(64, 32), (8, 5)])
def test_dcgan_shapes_are_the_models(latent_dim, base_channels):
    generator = dcgan.DCGANGenerator(latent_dim, base_channels)
    discriminator = dcgan.DCGANDiscriminator(base_channels=base_channels)
    shapes = []
    layers = [generator.upsample[0], generator.upsample[3], discriminator.features[0], discriminator.features[2],
              discriminator.features[-1]]
    for layer in layers:
        layer.register_forward_hook(lambda module, args, out: shapes.append(tuple(out.shape[1:])))
    with torch.no_grad():
        images = generator(torch.zeros(2, latent_dim))
        logits = discriminator(images)
    start = generator.project[0].out_features // (2 * base_channels)  # the view before the first transposed conv
    shapes.insert(0, (2 * base_channels, int(start ** 0.5), int(start ** 0.5)))
    shown = texts(diagrams.dcgan_architecture(latent_dim, base_channels))
    assert f"z: (B, {latent_dim})" in shown and tuple(logits.shape[1:]) == () and "(B,)" in shown
    for shape in shapes[:5]:  # G: (2C, 7, 7), (C, 14, 14), (1, 28, 28); D: (C, 14, 14), (2C, 7, 7)
        assert f"(B, {', '.join(map(str, shape))})" in shown, shape
    assert f"flatten: (B, {shapes[5][0]})" in shown
    assert f"Linear {shapes[5][0]}→1" in shown
    assert f"Linear {latent_dim}→{generator.project[0].out_features}" in shown
    defaults = inspect.signature(diagrams.dcgan_architecture).parameters
    model_defaults = inspect.signature(dcgan.DCGANGenerator).parameters
    assert all(defaults[n].default == model_defaults[n].default for n in ("latent_dim", "base_channels"))


@pytest.mark.parametrize("function, kwargs, message", [
    (diagrams.fully_connected_layer, {"n_in": 0}, "n_in.*0"),
    (diagrams.fully_connected_layer, {"n_out": 40}, "n_out=40"),
    (diagrams.tensor_strides, {"shape": (2, 3, 4, 5)}, r"\(2, 3, 4, 5\)"),
    (diagrams.tensor_strides, {"shape": (6, 6, 6)}, "216"),
    (diagrams.tensor_strides, {"shape": (2, 0)}, r"shape\[1\].*0"),
    (diagrams.tensor_strides, {"shape": (2, 3, 1)}, r"shape\[2\] must be an int >= 2, got 1"),
    (diagrams.convolution_stride_padding, {"stride": 0}, "stride.*0"),
    (diagrams.convolution_stride_padding, {"kernel": 5, "size": 2, "padding": 1}, "kernel=5"),
    (diagrams.convolution_stride_padding, {"padding": -1}, "padding.*-1"),
    (diagrams.multichannel_convolution, {"c_in": 5}, "c_in=5"),
    (diagrams.multichannel_convolution, {"kernel": 2.5}, "kernel.*2.5"),
    (diagrams.unrolled_rnn, {"steps": 0}, "steps.*0"),
    (diagrams.unrolled_rnn, {"steps": 9}, "steps=9"),
    (diagrams.transformer_block, {"num_heads": 3}, "dim=64 is not divisible by num_heads=3"),
    (diagrams.transformer_block, {"dim": True}, "dim.*True"),
    (diagrams.dcgan_architecture, {"latent_dim": 0}, "latent_dim.*0"),
    (diagrams.dcgan_architecture, {"base_channels": "32"}, "base_channels.*'32'"),
])
def test_bad_arguments_raise_value_error_naming_the_value(function, kwargs, message):
    with pytest.raises(ValueError, match=message):
        function(**kwargs)
