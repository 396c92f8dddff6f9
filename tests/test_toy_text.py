"""Tests for gan_course.data.toy_text: the tokenizer, the grammar's promises, and the 80/10/10 masking rates."""

import math

import pytest
import torch

from gan_course.data import toy_text

TOKENIZER = toy_text.WordTokenizer.for_grammar()


def test_special_tokens_come_first_and_round_trip():
    assert TOKENIZER.vocab[:5] == list(toy_text.SPECIAL_TOKENS) and TOKENIZER.pad_id == 0
    assert TOKENIZER.mask_id == TOKENIZER.ids["[MASK]"] == 3
    ids = TOKENIZER.encode("The cats [MASK] the ball.")
    assert TOKENIZER.decode(ids) == "the cats [MASK] the ball ."
    assert TOKENIZER.encode("the zebra") == [TOKENIZER.ids["the"], TOKENIZER.unk_id]
    with pytest.raises(ValueError, match="outside the vocabulary"):
        TOKENIZER.decode([TOKENIZER.vocab_size])


def test_encode_pair_adds_cls_sep_and_segments():
    ids, segments = TOKENIZER.encode_pair("the cat eats the cake .", "the cake is gone .")
    words = TOKENIZER.decode(ids).split()
    assert words[0] == "[CLS]" and words.count("[SEP]") == 2 and words[-1] == "[SEP]"
    first_sep = words.index("[SEP]")
    assert segments == [0] * (first_sep + 1) + [1] * (len(ids) - first_sep - 1)


def test_stories_obey_the_grammar():
    for story in toy_text.generate_stories(300, torch.Generator().manual_seed(0)):
        first, second = story.first.split(), story.second.split()
        animal, verb, thing = first[-5], first[-4], first[-2]
        plural_subject = animal in {plural for _, plural in toy_text.ANIMALS}
        forms = next((v, o) for v, o in toy_text.VERBS if verb in v)
        assert verb == forms[0][int(plural_subject)], f"agreement broken in {story.first!r}"
        assert second[1] == thing, "the second sentence must be about the first sentence's thing"
        plural_thing = thing in {plural for _, plural in toy_text.THINGS}
        assert " ".join(second[2:-1]) == forms[1][int(plural_thing)]
        assert all(word in TOKENIZER.ids for word in first + second)


def test_nsp_pairs_are_balanced_and_negatives_are_never_the_real_sentence():
    g = torch.Generator().manual_seed(1)
    pairs = toy_text.make_nsp_pairs(2000, g)
    rate = sum(label for *_, label in pairs) / len(pairs)
    assert abs(rate - 0.5) < 4 * math.sqrt(0.25 / 2000)
    for first, second, label in pairs:
        thing = first.split()[-2]
        if label == 1:
            assert second.split()[1] == thing
    again = toy_text.make_nsp_pairs(2000, torch.Generator().manual_seed(1))
    assert again == pairs, "the same generator seed must give the same pairs"


def test_negative_second_sentences_differ_from_the_story_they_replace():
    g = torch.Generator().manual_seed(3)
    stories = toy_text.generate_stories(500, torch.Generator().manual_seed(3))
    pairs = toy_text.make_nsp_pairs(500, g, next_prob=0.0)
    assert all(label == 0 for *_, label in pairs)
    for story, (first, second, _) in zip(stories, pairs):
        assert first == story.first and second != story.second


def test_encode_pairs_pads_and_rejects_overflow():
    pairs = toy_text.make_nsp_pairs(20, torch.Generator().manual_seed(4))
    batch = toy_text.encode_pairs(pairs, TOKENIZER, 16)
    assert batch["tokens"].shape == batch["segments"].shape == (20, 16)
    assert torch.equal(batch["padding_mask"], batch["tokens"] == TOKENIZER.pad_id)
    assert (batch["tokens"][:, 0] == TOKENIZER.cls_id).all()
    assert batch["nsp_labels"].tolist() == [label for *_, label in pairs]
    with pytest.raises(ValueError, match="max_len=5"):
        toy_text.encode_pairs(pairs, TOKENIZER, 5)


def masked_sample(count=20000, seed=5):
    pairs = toy_text.make_nsp_pairs(count, torch.Generator().manual_seed(seed))
    tokens = toy_text.encode_pairs(pairs, TOKENIZER, 16)["tokens"]
    inputs, labels = toy_text.mask_tokens(tokens, TOKENIZER, torch.Generator().manual_seed(seed))
    return tokens, inputs, labels


def within(observed, expected, trials, sigmas=5):
    """A binomial rate within ``sigmas`` standard errors: false alarms about 1 in 1.7 million."""
    return abs(observed - expected) < sigmas * math.sqrt(expected * (1 - expected) / trials)


def test_masking_rates_follow_the_80_10_10_rule():
    tokens, inputs, labels = masked_sample()
    words = tokens >= TOKENIZER.first_word_id
    selected = labels != toy_text.IGNORE_INDEX
    n_words, n_selected = words.sum().item(), selected.sum().item()
    assert within(n_selected / n_words, 0.15, n_words)
    as_mask = (inputs[selected] == TOKENIZER.mask_id).float().mean().item()
    unchanged = (inputs[selected] == tokens[selected]).float().mean().item()
    n_real_words = TOKENIZER.vocab_size - TOKENIZER.first_word_id
    # a random word equals the original 1 time in n_real_words, so "unchanged" gets that share of the 10 %
    assert within(as_mask, 0.8, n_selected)
    assert within(unchanged, 0.1 + 0.1 / n_real_words, n_selected)
    assert within(1 - as_mask - unchanged, 0.1 * (1 - 1 / n_real_words), n_selected)
    assert torch.equal(labels[selected], tokens[selected])


def test_special_tokens_are_never_masked_or_replaced():
    tokens, inputs, labels = masked_sample(5000, seed=6)
    special = tokens < TOKENIZER.first_word_id
    assert torch.equal(inputs[special], tokens[special])
    assert (labels[special] == toy_text.IGNORE_INDEX).all()
    replaced = (inputs != tokens) & (inputs != TOKENIZER.mask_id)
    assert (inputs[replaced] >= TOKENIZER.first_word_id).all(), "random replacements must be words"


def test_masking_is_reproducible_and_validates_its_arguments():
    tokens = torch.randint(5, TOKENIZER.vocab_size, (4, 10), generator=torch.Generator().manual_seed(0))
    a = toy_text.mask_tokens(tokens, TOKENIZER, torch.Generator().manual_seed(9))
    b = toy_text.mask_tokens(tokens, TOKENIZER, torch.Generator().manual_seed(9))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    every = toy_text.mask_tokens(tokens, TOKENIZER, select_prob=1.0, mask_prob=1.0, random_prob=0.0)[0]
    assert (every == TOKENIZER.mask_id).all()
    with pytest.raises(ValueError, match="mask_prob \\+ random_prob"):
        toy_text.mask_tokens(tokens, TOKENIZER, mask_prob=0.9, random_prob=0.2)
    with pytest.raises(ValueError, match="select_prob"):
        toy_text.mask_tokens(tokens, TOKENIZER, select_prob=1.5)
    with pytest.raises(ValueError, match="long tensor"):
        toy_text.mask_tokens(tokens.float(), TOKENIZER)


def test_grade_story_accepts_the_grammar_and_names_each_broken_rule():
    for story in toy_text.generate_stories(200, torch.Generator().manual_seed(3)):
        grade = toy_text.grade_story(f"[CLS] {story.first} [SEP] {story.second} [SEP] [PAD]")
        assert all(grade.values()), (story, grade)
    grade = toy_text.grade_story
    assert grade("[CLS] the cats eats the cake . [SEP] the cake is gone . [SEP]") == \
        {"well_formed": True, "agreement": False, "same_thing": True, "outcome": True}
    assert grade("[CLS] the old dog kicks the cake . [SEP] the cup flies away . [SEP]")["same_thing"] is False
    assert grade("[CLS] the dog kicks the cakes . [SEP] the cakes flies away . [SEP]")["outcome"] is False
    assert grade("[CLS] the dog the cake . [SEP] the cake . [SEP]") == dict.fromkeys(
        ("well_formed", "agreement", "same_thing", "outcome"), False)
    assert grade("the dog kicks")["well_formed"] is False


def test_outcome_pairs_keep_the_thing_and_change_only_the_predicate():
    pairs = toy_text.make_outcome_pairs(400, torch.Generator().manual_seed(4))
    labels = [label for *_, label in pairs]
    assert 0.4 < sum(labels) / len(labels) < 0.6
    for first, second, label in pairs:
        grade = toy_text.grade_story(f"[CLS] {first} [SEP] {second} [SEP]")
        assert grade["well_formed"] and grade["agreement"] and grade["same_thing"]
        assert grade["outcome"] == bool(label), (first, second, label)
    with pytest.raises(ValueError, match="fit_prob"):
        toy_text.make_outcome_pairs(3, fit_prob=1.5)
