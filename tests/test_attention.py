"""Tests for gan_course.models.attention against PyTorch's own attention, and the positional-encoding laws."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_course.models import attention, transformer


def random_qkv(batch=2, heads=3, length=5, source=7, dim=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, heads, length, dim, generator=g), torch.randn(batch, heads, source, dim, generator=g),
            torch.randn(batch, heads, source, dim + 2, generator=g))


def test_attention_matches_torch_without_mask():
    q, k, v = random_qkv()
    out, weights = attention.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    torch.testing.assert_close(weights, torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8), dim=-1))
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5))


def test_attention_matches_torch_with_a_boolean_mask():
    q, k, v = random_qkv()
    mask = torch.rand(5, 7, generator=torch.Generator().manual_seed(1)) < 0.6
    mask[:, 0] = True  # every query keeps at least one key, otherwise both return NaN rows
    out, weights = attention.scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    assert (weights[..., ~mask] == 0).all(), "blocked keys must get exactly zero weight"


def test_attention_matches_torch_with_a_float_mask():
    q, k, v = random_qkv()
    bias = torch.randn(2, 1, 5, 7, generator=torch.Generator().manual_seed(2))
    out, _ = attention.scaled_dot_product_attention(q, k, v, bias)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=bias))


def test_causal_mask_matches_is_causal():
    q, k, v = random_qkv(source=5)
    out, weights = attention.scaled_dot_product_attention(q, k, v, attention.causal_mask(5))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert torch.equal(weights[..., 0, 0], torch.ones(2, 3)), "the first token can only look at itself"
    assert (weights.triu(1) == 0).all()


def test_attention_rejects_mismatched_shapes():
    q, k, v = random_qkv()
    with pytest.raises(ValueError, match="d_k"):
        attention.scaled_dot_product_attention(q, k[..., :4], v)
    with pytest.raises(ValueError, match="same length"):
        attention.scaled_dot_product_attention(q, k, v[..., :3, :])
    with pytest.raises(ValueError, match="positive int"):
        attention.causal_mask(0)


def paired_modules(dim=12, heads=3, seed=0):
    torch.manual_seed(seed)
    reference = nn.MultiheadAttention(dim, heads, batch_first=True)
    nn.init.normal_(reference.in_proj_bias)  # torch initialises the biases to 0: make them count
    nn.init.normal_(reference.out_proj.bias)
    return attention.MultiHeadAttention(dim, heads).copy_from(reference), reference


def test_multi_head_matches_nn_multihead_attention_for_self_attention():
    ours, reference = paired_modules()
    x = torch.randn(4, 6, 12)
    out, weights = ours(x, x, x)
    ref_out, ref_weights = reference(x, x, x, need_weights=True, average_attn_weights=True)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(weights, ref_weights)
    _, per_head = ours(x, x, x, average_weights=False)
    _, ref_per_head = reference(x, x, x, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(per_head, ref_per_head)


def test_multi_head_matches_with_cross_attention_and_masks():
    ours, reference = paired_modules(seed=1)
    query, memory = torch.randn(3, 4, 12), torch.randn(3, 6, 12)
    padding = torch.zeros(3, 6, dtype=torch.bool)
    padding[0, 4:], padding[2, 2:] = True, True
    allowed = torch.ones(4, 6, dtype=torch.bool)
    allowed[1, 0] = False
    out, weights = ours(query, memory, memory, key_padding_mask=padding, attn_mask=allowed)
    # nn.MultiheadAttention's boolean attn_mask means "blocked" where True: the opposite convention
    ref_out, ref_weights = reference(query, memory, memory, key_padding_mask=padding, attn_mask=~allowed)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(weights, ref_weights)
    assert (weights[0, :, 4:] == 0).all() and (weights[2, :, 2:] == 0).all()


def test_multi_head_matches_with_an_additive_mask_and_padding():
    ours, reference = paired_modules(seed=2)
    x = torch.randn(2, 5, 12)
    bias = torch.randn(5, 5)
    padding = torch.tensor([[False] * 5, [False, False, False, True, True]])
    out, weights = ours(x, x, x, key_padding_mask=padding, attn_mask=bias)
    float_padding = torch.zeros(2, 5).masked_fill(padding, float("-inf"))  # torch wants both masks float
    ref_out, ref_weights = reference(x, x, x, key_padding_mask=float_padding, attn_mask=bias)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(weights, ref_weights)


def test_multi_head_checks_its_inputs():
    ours, _ = paired_modules()
    with pytest.raises(ValueError, match=r"\(B, T, 12\)"):
        ours(torch.randn(2, 5, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 8))
    with pytest.raises(ValueError, match="divisible"):
        attention.MultiHeadAttention(10, 3)


def test_sinusoidal_table_follows_the_formula():
    table = attention.sinusoidal_encoding(50, 16)
    for pos, i in [(0, 0), (3, 1), (17, 4), (49, 7)]:
        angle = pos / 10000 ** (2 * i / 16)
        assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
        assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)
    with pytest.raises(ValueError, match="even"):
        attention.sinusoidal_encoding(10, 7)


@pytest.mark.parametrize("offset", [1, 3, 10])
def test_offset_is_a_rotation_of_the_encoding(offset):
    dim, table = 16, attention.sinusoidal_encoding(64, 16)
    rotation = attention.offset_rotation(offset, dim)
    torch.testing.assert_close(table[offset:], table[:-offset] @ rotation.T, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(rotation @ rotation.T, torch.eye(dim), atol=1e-6, rtol=1e-6)
    dots = (table[offset:] * table[:-offset]).sum(-1)  # PE[p] · PE[p + k] for every p
    torch.testing.assert_close(dots, torch.full_like(dots, dots[0].item()), atol=1e-4, rtol=1e-4)


def test_a_wrong_offset_does_not_fit():
    table = attention.sinusoidal_encoding(64, 16)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(table[3:], table[:-3] @ attention.offset_rotation(2, 16).T)


@pytest.mark.parametrize("kind", ["learned", "sinusoidal"])
def test_positional_encodings_add_a_position_dependent_vector(kind):
    torch.manual_seed(0)
    module = attention.positional_encoding(kind, 10, 8)
    out = module(torch.zeros(2, 6, 8))
    assert out.shape == (2, 6, 8)
    torch.testing.assert_close(out[0], out[1])
    assert not torch.allclose(out[0, 0], out[0, 1]), "different positions must get different vectors"
    with pytest.raises(ValueError, match="T ≤ 10"):
        module(torch.zeros(1, 11, 8))


def test_no_positional_encoding_leaves_a_model_blind_to_order():
    module = attention.positional_encoding("none", 10, 8)
    x = torch.randn(2, 6, 8)
    assert module(x) is x and not list(module.parameters())
    with pytest.raises(ValueError, match="T ≤ 10"):
        module(torch.zeros(1, 11, 8))
    torch.manual_seed(0)
    config = transformer.TransformerConfig(vocab_size=10, num_outputs=10, max_len=8, dim=16, num_heads=2,
                                           num_layers=1, hidden_dim=32, positional="none")
    model = transformer.TokenEncoder(config).eval()
    tokens = torch.randint(10, (3, 8))
    order = torch.randperm(8)
    torch.testing.assert_close(model(tokens[:, order]), model(tokens)[:, order])  # permutation-equivariant


def test_only_the_learned_embedding_has_parameters():
    assert sum(p.numel() for p in attention.positional_encoding("sinusoidal", 10, 8).parameters()) == 0
    learned = attention.positional_encoding("learned", 10, 8)
    learned(torch.zeros(1, 4, 8)).sum().backward()
    grad = learned.embedding.weight.grad
    assert grad[:4].abs().sum() > 0 and grad[4:].abs().sum() == 0, "only the used positions get gradient"
    with pytest.raises(ValueError, match="unknown positional encoding 'rotary'; choose one of"):
        attention.positional_encoding("rotary", 10, 8)
