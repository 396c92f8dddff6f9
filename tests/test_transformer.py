"""Tests for gan_course.models.transformer: blocks against nn.TransformerEncoderLayer, masks, and learning."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_course.data import digit_tasks
from gan_course.models import transformer


def copy_into_reference(block: transformer.EncoderBlock, reference: nn.TransformerEncoderLayer) -> None:
    with torch.no_grad():
        reference.self_attn.in_proj_weight.copy_(block.attention.in_proj.weight)
        reference.self_attn.in_proj_bias.copy_(block.attention.in_proj.bias)
        reference.self_attn.out_proj.weight.copy_(block.attention.out_proj.weight)
        reference.self_attn.out_proj.bias.copy_(block.attention.out_proj.bias)
        reference.linear1.load_state_dict(block.feed_forward.layers[0].state_dict())
        reference.linear2.load_state_dict(block.feed_forward.layers[2].state_dict())
        reference.norm1.load_state_dict(block.norm1.state_dict())
        reference.norm2.load_state_dict(block.norm2.state_dict())


@pytest.mark.parametrize("norm_first", [True, False])
def test_encoder_block_matches_torch_encoder_layer(norm_first):
    torch.manual_seed(0)
    block = transformer.EncoderBlock(16, 4, 32, norm_first=norm_first)
    for norm in (block.norm1, block.norm2):  # non-trivial LayerNorm parameters, so a swapped norm would show
        nn.init.normal_(norm.weight)
        nn.init.normal_(norm.bias)
    reference = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=norm_first)
    copy_into_reference(block, reference)
    x = torch.randn(3, 7, 16)
    padding = torch.zeros(3, 7, dtype=torch.bool)
    padding[1, 5:] = True
    out, weights = block(x, padding)
    torch.testing.assert_close(out, reference(x, src_key_padding_mask=padding))
    assert weights.shape == (3, 4, 7, 7)
    assert (weights[1, :, :, 5:] == 0).all()


def test_self_attention_without_positions_is_permutation_equivariant():
    torch.manual_seed(0)
    block = transformer.EncoderBlock(16, 4, 32)
    x, order = torch.randn(2, 6, 16), torch.randperm(6)
    torch.testing.assert_close(block(x[:, order])[0], block(x)[0][:, order])


def test_positional_encoding_breaks_the_symmetry():
    torch.manual_seed(0)
    model = transformer.TokenEncoder(transformer.TransformerConfig(vocab_size=10, num_outputs=10, max_len=8))
    tokens = torch.tensor([[1, 2, 3, 4]])
    swapped = torch.tensor([[2, 1, 3, 4]])
    assert not torch.allclose(model(tokens)[0, 0], model(swapped)[0, 1], atol=1e-4), \
        "with positions, the same token at another position must get another output"


def test_decoder_block_cannot_see_the_future():
    torch.manual_seed(0)
    block = transformer.DecoderBlock(16, 4, 32)
    x, memory = torch.randn(2, 5, 16), torch.randn(2, 9, 16)
    changed = x.clone()
    changed[:, 3:] = torch.randn(2, 2, 16)
    out, out_changed = block(x, memory), block(changed, memory)
    torch.testing.assert_close(out[:, :3], out_changed[:, :3])
    assert not torch.allclose(out[:, 3:], out_changed[:, 3:])
    other_memory = block(x, torch.randn(2, 9, 16))
    assert not torch.allclose(out[:, 0], other_memory[:, 0]), "every position reads the encoder's output"


def test_token_encoder_checks_inputs_and_reports_attention():
    model = transformer.TokenEncoder(transformer.TransformerConfig(vocab_size=10, num_outputs=7, max_len=8,
                                                                   num_layers=3))
    logits, maps = model(torch.zeros(2, 5, dtype=torch.long), return_attention=True)
    assert logits.shape == (2, 5, 7) and len(maps) == 3 and maps[0].shape == (2, 4, 5, 5)
    with pytest.raises(ValueError, match="long tensor"):
        model(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="max_len=8"):
        model(torch.zeros(2, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="unknown positional encoding 'nope'; choose one of"):
        transformer.TokenEncoder(transformer.TransformerConfig(vocab_size=10, num_outputs=7, positional="nope"))


def test_token_encoder_learns_to_reverse():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = transformer.TokenEncoder(transformer.TransformerConfig(vocab_size=10, num_outputs=10, max_len=6,
                                                                   dim=32, hidden_dim=64, num_layers=1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(80):
        inputs, targets = digit_tasks.make_batch("reverse", 32, 6, generator=g)
        loss = F.cross_entropy(model(inputs).flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    inputs, targets = digit_tasks.make_batch("reverse", 500, 6, generator=g)
    with torch.no_grad():
        accuracy = digit_tasks.token_accuracy(model(inputs).argmax(-1), targets)
    assert accuracy > 0.9, f"reversing is easy; token accuracy only {accuracy:.3f}"


def test_count_parameters_matches_a_hand_count():
    block = transformer.EncoderBlock(8, 2, 16)
    attention_params = 8 * 24 + 24 + 8 * 8 + 8
    feed_forward = 8 * 16 + 16 + 16 * 8 + 8
    assert transformer.count_parameters(block) == attention_params + feed_forward + 2 * 16
