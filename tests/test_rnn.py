"""Recurrent models: the hand-written RNN and LSTM step against nn.RNN / nn.LSTMCell, gradients through time,
and the memory task the vanilla RNN finds hard and the LSTM learns."""

import pytest
import torch
from torch import nn

from gan_course.data import sequences
from gan_course.evaluation import diagnostics
from gan_course.models import rnn
from gan_course.training import sequence_models


def test_manual_rnn_matches_nn_rnn_outputs_and_gradients():
    torch.manual_seed(0)
    reference = nn.RNN(3, 5, batch_first=True)
    manual = rnn.ManualRNN(3, 5).copy_from(reference)
    x = torch.randn(4, 7, 3)
    outputs, states = manual(x)
    expected, last = reference(x)
    torch.testing.assert_close(outputs, expected)
    torch.testing.assert_close(states[-1], last[0])
    assert len(states) == 8
    outputs.square().sum().backward()
    expected.square().sum().backward()
    torch.testing.assert_close(manual.weight_x.grad, reference.weight_ih_l0.grad)
    torch.testing.assert_close(manual.weight_h.grad, reference.weight_hh_l0.grad)
    torch.testing.assert_close(manual.bias.grad, reference.bias_hh_l0.grad)  # ∂L/∂b for either bias


def test_manual_rnn_step_is_the_formula():
    torch.manual_seed(1)
    manual = rnn.ManualRNN(2, 3)
    x, h = torch.randn(1, 2), torch.randn(1, 3)
    expected = torch.tanh(manual.weight_x @ x[0] + manual.weight_h @ h[0] + manual.bias)
    torch.testing.assert_close(manual.step(x, h)[0], expected)


def test_copy_from_refuses_other_rnns():
    with pytest.raises(ValueError, match="nonlinearity='tanh'"):
        rnn.ManualRNN(3, 5).copy_from(nn.RNN(3, 5, nonlinearity="relu"))
    with pytest.raises(ValueError, match="D=3, H=4"):
        rnn.ManualRNN(3, 5).copy_from(nn.RNN(3, 4))


def test_lstm_step_matches_lstm_cell_and_unrolled_lstm():
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    h_ref, c_ref = cell(x, (h, c))
    h_out, c_out = rnn.lstm_step(x, h, c, cell)
    torch.testing.assert_close(h_out, h_ref)
    torch.testing.assert_close(c_out, c_ref)
    lstm = nn.LSTM(3, 4, batch_first=True)
    sequence = torch.randn(2, 6, 3)
    expected, (h_last, c_last) = lstm(sequence)
    hs, cs = rnn.unroll_lstm(rnn.lstm_cell_from(lstm), sequence)
    torch.testing.assert_close(torch.stack(hs[1:], dim=1), expected)
    torch.testing.assert_close(cs[-1], c_last[0])


def test_gradient_norms_vanish_and_explode_with_the_recurrent_scale():
    x = torch.randn(8, 40, 3, generator=torch.Generator().manual_seed(0))
    ratios = {}
    for scale in (0.5, 2.0):
        torch.manual_seed(0)
        model = rnn.ManualRNN(3, 16)
        with torch.no_grad():
            q, _ = torch.linalg.qr(torch.randn(16, 16))
            model.weight_h.copy_(scale * q)  # all singular values = scale
        outputs, states = model(x)
        norms = diagnostics.state_gradient_norms(outputs[:, -1].sum(), states)
        assert norms.shape == (41,)
        ratios[scale] = (norms[0] / norms[-1]).item()  # 40 steps back vs the last step
    assert ratios[0.5] < 1e-6  # |∏ diag(tanh') W_h| ≤ 0.5^40
    assert ratios[2.0] > 1e2


def test_sequence_classifier_shapes_and_errors():
    for kind in rnn.RECURRENT_LAYERS:
        model = rnn.SequenceClassifier(kind, 5, 8, 4)
        assert model(torch.zeros(3, 10, 5)).shape == (3, 4)
        with pytest.raises(ValueError, match=r"\(B, T, D\) with D = 5, got \(3, 10\)"):
            model(torch.zeros(3, 10))
    with pytest.raises(ValueError, match="unknown kind 'gru'; choose one of"):
        rnn.SequenceClassifier("gru", 5, 8, 4)
    lstm = rnn.SequenceClassifier("lstm", 5, 8, 4, forget_bias=3.0).recurrent
    forget = lstm.bias_ih_l0[8:16] + lstm.bias_hh_l0[8:16]
    torch.testing.assert_close(forget, torch.full((8,), 3.0))


def test_lstm_learns_a_short_recall_task():
    torch.manual_seed(0)
    task = sequences.RecallTask(delay=4)
    model = rnn.SequenceClassifier("lstm", task.input_dim, 16, task.num_classes, forget_bias=3.0)
    generator = torch.Generator().manual_seed(1)
    losses = sequence_models.train_sequence_classifier(model, task.sample, steps=100, batch_size=32, generator=generator)
    inputs, labels = task.sample(500, torch.Generator().manual_seed(2))
    with torch.no_grad():
        accuracy = (model(inputs).argmax(1) == labels).float().mean().item()
    assert accuracy > 0.9 and losses[-1] < losses[0] / 3
    assert not model.training


def test_training_rejects_bad_steps():
    model = rnn.SequenceClassifier("rnn", 5, 8, 4)
    with pytest.raises(ValueError, match="steps"):
        sequence_models.train_sequence_classifier(model, sequences.RecallTask(2).sample, steps=0)
