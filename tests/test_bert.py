"""Tests for gan_course.models.bert: embeddings, tied weights, bidirectional attention, losses, evaluation."""

import pytest
import torch
import torch.nn.functional as F

from gan_course.data import toy_text
from gan_course.models import bert
from gan_course.training import sequence_models

TOKENIZER = toy_text.WordTokenizer.for_grammar()


def small_model(tie_weights=True, seed=0):
    torch.manual_seed(seed)
    return bert.ToyBert(bert.BertConfig(TOKENIZER.vocab_size, max_len=16, dim=16, num_heads=2, num_layers=2,
                                        hidden_dim=32, tie_weights=tie_weights))


def sample_batch(count=8, seed=0):
    pairs = toy_text.make_nsp_pairs(count, torch.Generator().manual_seed(seed))
    return toy_text.encode_pairs(pairs, TOKENIZER, 16)


def test_output_shapes_and_attention_maps():
    model, batch = small_model(), sample_batch()
    out = model(batch["tokens"], batch["segments"], batch["padding_mask"])
    assert out.mlm_logits.shape == (8, 16, TOKENIZER.vocab_size) and out.nsp_logits.shape == (8, 2)
    assert len(out.attention) == 2 and out.attention[0].shape == (8, 2, 16, 16)
    padded_keys = batch["padding_mask"][:, None, None, :].expand_as(out.attention[0])  # (B, H, T, T)
    assert batch["padding_mask"].any() and (out.attention[0][padded_keys] == 0).all()
    torch.testing.assert_close(out.attention[1].sum(-1), torch.ones(8, 2, 16))


def test_tied_weights_share_one_matrix_and_untied_do_not():
    tied, untied = small_model(True), small_model(False)
    assert tied.mlm_decoder.weight is tied.token_embedding.weight
    assert untied.mlm_decoder.weight is not untied.token_embedding.weight
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(untied) - count(tied) == TOKENIZER.vocab_size * 16


def test_padding_tokens_do_not_change_the_other_positions():
    model, batch = small_model(), sample_batch()
    model.eval()
    other = batch["tokens"].clone()
    other[batch["padding_mask"]] = TOKENIZER.ids["cat"]  # garbage in the padded slots, still marked as padding
    out, out_other = (model(t, batch["segments"], batch["padding_mask"]) for t in (batch["tokens"], other))
    keep = ~batch["padding_mask"]
    torch.testing.assert_close(out.mlm_logits[keep], out_other.mlm_logits[keep])
    torch.testing.assert_close(out.nsp_logits, out_other.nsp_logits)


def test_attention_is_bidirectional():
    model = small_model()
    model.eval()
    tokens = torch.tensor([TOKENIZER.encode_pair("the cat eats the cake .")[0]])
    later = tokens.clone()
    later[0, -3] = TOKENIZER.ids["hat"]  # change a token near the end
    first, changed = model(tokens).mlm_logits, model(later).mlm_logits
    assert not torch.allclose(first[0, 1], changed[0, 1]), "an early position must see later tokens"


def test_segment_embedding_matters():
    model, batch = small_model(), sample_batch()
    a = model(batch["tokens"], batch["segments"]).nsp_logits
    b = model(batch["tokens"], torch.zeros_like(batch["segments"])).nsp_logits
    assert not torch.allclose(a, b)


def test_losses_match_cross_entropy_on_selected_positions_only():
    model, batch = small_model(), sample_batch()
    inputs, labels = toy_text.mask_tokens(batch["tokens"], TOKENIZER, torch.Generator().manual_seed(1),
                                          select_prob=0.5)
    out = model(inputs, batch["segments"], batch["padding_mask"])
    losses = sequence_models.pretraining_losses(out, labels, batch["nsp_labels"])
    selected = labels != bert.IGNORE_INDEX
    torch.testing.assert_close(losses["mlm"], F.cross_entropy(out.mlm_logits[selected], labels[selected]))
    torch.testing.assert_close(losses["nsp"], F.cross_entropy(out.nsp_logits, batch["nsp_labels"]))
    torch.testing.assert_close(losses["loss"], losses["mlm"] + losses["nsp"])
    with pytest.raises(ValueError, match="mlm_labels must be"):
        sequence_models.pretraining_losses(out, labels[:, :3], batch["nsp_labels"])


def test_evaluate_counts_like_a_hand_count():
    model, batch = small_model(), sample_batch(32)
    inputs, labels = toy_text.mask_tokens(batch["tokens"], TOKENIZER, torch.Generator().manual_seed(2))
    the = TOKENIZER.ids["the"]
    result = sequence_models.evaluate_bert(model, batch, inputs, labels, the)
    selected = labels != bert.IGNORE_INDEX
    assert result["unigram_accuracy"] == pytest.approx((labels[selected] == the).float().mean().item())
    model.eval()
    with torch.no_grad():
        clean = model(batch["tokens"], batch["segments"], batch["padding_mask"])
        masked = model(inputs, batch["segments"], batch["padding_mask"])
    assert result["nsp_accuracy"] == pytest.approx(
        (clean.nsp_logits.argmax(-1) == batch["nsp_labels"]).float().mean().item())
    assert result["mlm_accuracy"] == pytest.approx(
        (masked.mlm_logits[selected].argmax(-1) == labels[selected]).float().mean().item())
    with pytest.raises(ValueError, match="no position is selected"):
        sequence_models.evaluate_bert(model, batch, inputs, torch.full_like(labels, bert.IGNORE_INDEX), the)


def test_a_short_pre_training_beats_the_unigram_baseline():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = toy_text.encode_pairs(toy_text.make_nsp_pairs(1000, g), TOKENIZER, 16)
    model = small_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        index = torch.randint(1000, (32,), generator=g)
        batch = {k: v[index] for k, v in data.items()}
        inputs, labels = toy_text.mask_tokens(batch["tokens"], TOKENIZER, g)
        loss = sequence_models.pretraining_losses(model(inputs, batch["segments"], batch["padding_mask"]), labels,
                                                  batch["nsp_labels"])["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    test = toy_text.encode_pairs(toy_text.make_nsp_pairs(500, g), TOKENIZER, 16)
    inputs, labels = toy_text.mask_tokens(test["tokens"], TOKENIZER, g)
    result = sequence_models.evaluate_bert(model, test, inputs, labels, TOKENIZER.ids["the"])
    assert result["mlm_accuracy"] > result["unigram_accuracy"] + 0.1, result
