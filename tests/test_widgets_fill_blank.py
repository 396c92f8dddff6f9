"""Tests for gan_course.widgets.fill_blank: the engine on a model with a known preference, and the shell headless."""

import pytest
import torch

from gan_course.data import toy_text
from gan_course.models import bert
from gan_course.widgets import fill_blank

TOKENIZER = toy_text.WordTokenizer.for_grammar()


def biased_model(word: str, tie_weights: bool = False) -> bert.ToyBert:
    """A random toy BERT whose MLM decoder bias makes ``word`` overwhelmingly likely, then [PAD]."""
    torch.manual_seed(0)
    model = bert.ToyBert(bert.BertConfig(TOKENIZER.vocab_size, max_len=16, dim=16, num_heads=2, num_layers=1,
                                         hidden_dim=32, tie_weights=tie_weights))
    with torch.no_grad():
        model.mlm_decoder.bias.zero_()
        model.mlm_decoder.bias[TOKENIZER.pad_id] = 20.0  # a special token: must never be proposed
        model.mlm_decoder.bias[TOKENIZER.ids[word]] = 30.0
    return model


def test_engine_ranks_words_by_the_model_probability():
    model = biased_model("kick")
    ranking = fill_blank.fill_blank(model, TOKENIZER, "the cats [MASK] the ball .", top_k=4)
    assert len(ranking) == 4 and ranking[0] == ("kick", pytest.approx(1.0, abs=1e-3))
    words = [w for w, _ in ranking]
    assert "[PAD]" not in words and all(w in TOKENIZER.ids for w in words)
    probabilities = [p for _, p in ranking]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0 + 1e-6


def test_engine_probabilities_match_a_direct_forward_pass():
    model = biased_model("eat")
    sentence = "the dog eats the cake . [SEP] the cake [MASK] gone ."
    ranking = dict(fill_blank.fill_blank(model, TOKENIZER, sentence, top_k=3))
    assert next(iter(ranking)) == "eat"
    ids, segments = TOKENIZER.encode_pair("the dog eats the cake .", "the cake [MASK] gone .")
    assert segments[ids.index(TOKENIZER.mask_id)] == 1, "the blank sits in the second sentence"
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids]), torch.tensor([segments])).mlm_logits[0, ids.index(TOKENIZER.mask_id)]
    expected = torch.softmax(logits, -1)[TOKENIZER.ids["eat"]].item()
    assert ranking["eat"] == pytest.approx(expected, abs=1e-6)


def test_engine_rejects_bad_sentences():
    model = biased_model("eat")
    with pytest.raises(ValueError, match="exactly one \\[MASK\\], found 0"):
        fill_blank.fill_blank(model, TOKENIZER, "the cat eats the cake .")
    with pytest.raises(ValueError, match="found 2"):
        fill_blank.fill_blank(model, TOKENIZER, "the [MASK] [MASK] the cake .")
    with pytest.raises(ValueError, match="top_k"):
        fill_blank.fill_blank(model, TOKENIZER, "the [MASK] eats the cake .", top_k=0)
    with pytest.raises(ValueError, match="at most 16"):
        fill_blank.fill_blank(model, TOKENIZER, "the " * 14 + "[MASK] .")


def test_engine_restores_training_mode():
    model = biased_model("eat")
    model.train()
    fill_blank.fill_blank(model, TOKENIZER, "the [MASK] eats the cake .")
    assert model.training


def test_widget_button_handler_fills_the_text_box():
    pytest.importorskip("ipywidgets")
    widget = fill_blank.FillBlankWidget(biased_model("kick"), TOKENIZER, top_k=3)
    widget.text.value = "the horses [MASK] the hat ."
    result = widget.on_click(widget.button)
    assert result is widget.result and result[0][0] == "kick" and len(result) == 3
    assert "kick" in widget.message
    widget.text.value = "no blank here ."
    widget.button.click()  # the real button fires the same handler
    assert widget.result is None and "exactly one [MASK]" in widget.message
