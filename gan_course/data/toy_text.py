"""A generated toy corpus, a word-level tokenizer and BERT's masking rule, for the toy BERT lesson (07).

The grammar: ``the [adjective] animal verb the thing .`` with subject–verb agreement, then its consequence
(``the thing`` plus the predicate the verb implies), so next-sentence prediction is learnable. Masking follows Devlin
et al. (2019): 15 % of the non-special tokens; 80 % ``[MASK]``, 10 % random, 10 % unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]")
IGNORE_INDEX = -100  # label for positions the MLM loss skips (F.cross_entropy's default ignore_index)

ANIMALS = (("cat", "cats"), ("dog", "dogs"), ("bird", "birds"), ("fox", "foxes"), ("horse", "horses"),
           ("frog", "frogs"), ("duck", "ducks"), ("bear", "bears"))
ADJECTIVES = ("small", "big", "old", "young", "happy", "lazy")
THINGS = (("ball", "balls"), ("apple", "apples"), ("box", "boxes"), ("hat", "hats"), ("cake", "cakes"),
          ("stick", "sticks"), ("cup", "cups"), ("shoe", "shoes"))
# verb (singular subject, plural subject) -> what then holds for the thing (singular thing, plural things)
VERBS = (
    (("eats", "eat"), ("is gone", "are gone")),
    (("kicks", "kick"), ("flies away", "fly away")),
    (("drops", "drop"), ("falls", "fall")),
    (("hides", "hide"), ("is lost", "are lost")),
    (("washes", "wash"), ("is clean", "are clean")),
    (("breaks", "break"), ("is broken", "are broken")),
)
ADJECTIVE_PROB = 0.5


def grammar_words() -> list[str]:
    """Every word the grammar can produce (sorted), the tokenizer's vocabulary besides the special tokens."""
    words = {"the", "."}
    for pair in ANIMALS + THINGS:
        words.update(pair)
    words.update(ADJECTIVES)
    for verb_forms, outcome_forms in VERBS:
        words.update(verb_forms)
        for outcome in outcome_forms:
            words.update(outcome.split())
    return sorted(words)


class WordTokenizer:
    """Word-level tokenizer: special tokens first (``[PAD]`` = 0), then the sorted words; unknown ones ``[UNK]``."""

    _pattern = re.compile(r"\[[A-Z]+\]|[A-Za-z']+|[.,!?]")

    def __init__(self, words):
        words = [w for w in dict.fromkeys(words) if w not in SPECIAL_TOKENS]
        self.vocab = list(SPECIAL_TOKENS) + words
        self.ids = {token: index for index, token in enumerate(self.vocab)}
        self.pad_id, self.cls_id, self.sep_id, self.mask_id, self.unk_id = (self.ids[t] for t in SPECIAL_TOKENS)
        self.special_ids = tuple(range(len(SPECIAL_TOKENS)))
        self.first_word_id = len(SPECIAL_TOKENS)

    @classmethod
    def for_grammar(cls) -> "WordTokenizer":
        return cls(grammar_words())

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def tokenize(self, text: str) -> list[str]:
        return [t if t in SPECIAL_TOKENS else t.lower() for t in self._pattern.findall(text)]

    def encode(self, text: str) -> list[int]:
        return [self.ids.get(token, self.unk_id) for token in self.tokenize(text)]

    def decode(self, ids, skip_special: bool = False) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        for index in ids:
            if not 0 <= index < self.vocab_size:
                raise ValueError(f"token id {index} is outside the vocabulary [0, {self.vocab_size})")
        tokens = [self.vocab[i] for i in ids if not (skip_special and i in self.special_ids)]
        return " ".join(tokens)

    def encode_pair(self, first: str, second: str | None = None) -> tuple[list[int], list[int]]:
        """``[CLS] first [SEP] second [SEP]`` and its segment ids (0 up to the first ``[SEP]``, then 1)."""
        ids = [self.cls_id] + self.encode(first) + [self.sep_id]
        segments = [0] * len(ids)
        if second is not None:
            tail = self.encode(second) + [self.sep_id]
            ids, segments = ids + tail, segments + [1] * len(tail)
        return ids, segments


@dataclass(frozen=True)
class Story:
    first: str
    second: str


def _check_count(count) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")


def generate_stories(count: int, generator: torch.Generator | None = None) -> list[Story]:
    """``count`` two-sentence stories drawn uniformly from the grammar."""
    _check_count(count)

    def draw(size):
        return torch.randint(size, (count,), generator=generator).tolist()

    animal, animal_plural, verb = draw(len(ANIMALS)), draw(2), draw(len(VERBS))
    thing, thing_plural = draw(len(THINGS)), draw(2)
    has_adjective = (torch.rand(count, generator=generator) < ADJECTIVE_PROB).tolist()
    adjective = draw(len(ADJECTIVES))
    stories = []
    for i in range(count):
        subject = ANIMALS[animal[i]][animal_plural[i]]
        if has_adjective[i]:
            subject = f"{ADJECTIVES[adjective[i]]} {subject}"
        (verb_forms, outcome_forms), thing_word = VERBS[verb[i]], THINGS[thing[i]][thing_plural[i]]
        stories.append(Story(f"the {subject} {verb_forms[animal_plural[i]]} the {thing_word} .",
                             f"the {thing_word} {outcome_forms[thing_plural[i]]} ."))
    return stories


def grade_story(text: str) -> dict[str, bool]:
    """Which grammar rules a generated story obeys: ``well_formed``, ``agreement``, ``same_thing``, ``outcome``.

    A rule that cannot be read from a malformed story counts as broken.
    """
    words = [w for w in text.split() if w not in ("[CLS]", "[PAD]")]
    parts = " ".join(words).split("[SEP]")
    first, second = (parts[0].split(), parts[1].split()) if len(parts) >= 2 else (words, [])
    if first[1:2] and first[1] in ADJECTIVES:
        first = first[:1] + first[2:]  # drop the optional adjective: the animal verb the thing .
    animal = {form: number for pair in ANIMALS for number, form in enumerate(pair)}
    verb = {form: (number, outcomes) for forms, outcomes in VERBS for number, form in enumerate(forms)}
    thing = {form: number for pair in THINGS for number, form in enumerate(pair)}
    well_formed = (len(first) == 6 and first[0] == first[3] == "the" and first[5] == "." and first[1] in animal
                   and first[2] in verb and first[4] in thing and second[:1] == ["the"] and second[-1:] == ["."]
                   and len(second) >= 4 and second[1] in thing)
    if not well_formed:
        return {"well_formed": False, "agreement": False, "same_thing": False, "outcome": False}
    verb_number, outcomes = verb[first[2]]
    return {"well_formed": True, "agreement": animal[first[1]] == verb_number,
            "same_thing": second[1] == first[4],
            "outcome": " ".join(second[2:-1]) == outcomes[thing[second[1]]]}


def make_nsp_pairs(count: int, generator: torch.Generator | None = None,
                   next_prob: float = 0.5) -> list[tuple[str, str, int]]:
    """``(first, second, is_next)`` triples: ``is_next = 1`` keeps the story's own second sentence; otherwise the
    second sentence comes from another random story and is never equal to the real one."""
    _check_count(count)
    if not 0.0 <= next_prob <= 1.0:
        raise ValueError(f"next_prob must lie in [0, 1], got {next_prob!r}")
    stories = generate_stories(count, generator)
    others = generate_stories(count, generator)
    is_next = (torch.rand(count, generator=generator) < next_prob).tolist()
    pairs = []
    for story, other, keep in zip(stories, others, is_next):
        second = story.second if keep else other.second
        while not keep and second == story.second:  # a random sentence that happens to be the real one: redraw
            second = generate_stories(1, generator)[0].second
        pairs.append((story.first, second, int(keep)))
    return pairs


def make_outcome_pairs(count: int, generator: torch.Generator | None = None,
                       fit_prob: float = 0.5) -> list[tuple[str, str, int]]:
    """A labelled task for fine-tuning: ``(first, second, fits)`` where sentence 2 always names the right thing,
    and ``fits = 1`` when its predicate is the one the verb implies; otherwise another verb's predicate, in the
    same number (``the cat eats the cake . | the cake falls .`` -> 0)."""
    _check_count(count)
    if not 0.0 <= fit_prob <= 1.0:
        raise ValueError(f"fit_prob must lie in [0, 1], got {fit_prob!r}")
    stories = generate_stories(count, generator)
    fits = (torch.rand(count, generator=generator) < fit_prob).tolist()
    shifts = torch.randint(1, len(VERBS), (count,), generator=generator).tolist()  # another verb, never the same
    outcome_of = {forms[0]: index for index, (forms, _) in enumerate(VERBS)}
    outcome_of.update({forms[1]: index for index, (forms, _) in enumerate(VERBS)})
    number_of = {form: number for pair in THINGS for number, form in enumerate(pair)}
    pairs = []
    for story, fit, shift in zip(stories, fits, shifts):
        words = story.first.split()
        verb_index, thing = outcome_of[words[-4]], words[-2]  # "... verb the thing ."
        if fit:
            pairs.append((story.first, story.second, 1))
            continue
        wrong = VERBS[(verb_index + shift) % len(VERBS)][1][number_of[thing]]
        pairs.append((story.first, f"the {thing} {wrong} .", 0))
    return pairs


def encode_pairs(pairs, tokenizer: WordTokenizer, max_len: int) -> dict[str, torch.Tensor]:
    """Tensors for a list of ``(first, second, is_next)``: tokens and segments (N, max_len), padded with
    ``[PAD]``; ``padding_mask`` (N, max_len) True at padding; ``nsp_labels`` (N,)."""
    count = len(pairs)
    tokens = torch.full((count, max_len), tokenizer.pad_id, dtype=torch.long)
    segments = torch.zeros(count, max_len, dtype=torch.long)
    for row, (first, second, _) in enumerate(pairs):
        ids, segs = tokenizer.encode_pair(first, second)
        if len(ids) > max_len:
            raise ValueError(f"pair {row} needs {len(ids)} tokens but max_len={max_len}: {first!r} / {second!r}")
        tokens[row, :len(ids)] = torch.tensor(ids)
        segments[row, :len(segs)] = torch.tensor(segs)
    return {"tokens": tokens, "segments": segments, "padding_mask": tokens == tokenizer.pad_id,
            "nsp_labels": torch.tensor([label for *_, label in pairs], dtype=torch.long)}


def mask_tokens(tokens: torch.Tensor, tokenizer: WordTokenizer, generator: torch.Generator | None = None,
                select_prob: float = 0.15, mask_prob: float = 0.8, random_prob: float = 0.1
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: select ``select_prob`` of the word tokens; of those, ``[MASK]`` with ``mask_prob``, a random word
    with ``random_prob``, else unchanged. Returns ``inputs`` and ``labels`` (``IGNORE_INDEX`` where unselected)."""
    if tokens.dtype != torch.long or tokens.ndim != 2:
        raise ValueError(f"tokens must be a (B, T) long tensor, got {tokens.dtype} {tuple(tokens.shape)}")
    for name, p in (("select_prob", select_prob), ("mask_prob", mask_prob), ("random_prob", random_prob)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {p!r}")
    if mask_prob + random_prob > 1.0:
        raise ValueError(f"mask_prob + random_prob must be ≤ 1, got {mask_prob} + {random_prob}")
    is_word = tokens >= tokenizer.first_word_id  # special ids come first in the vocabulary
    selected = is_word & (torch.rand(tokens.shape, generator=generator) < select_prob)
    choice = torch.rand(tokens.shape, generator=generator)  # one draw decides [MASK] / random / unchanged
    to_mask = selected & (choice < mask_prob)
    to_random = selected & (choice >= mask_prob) & (choice < mask_prob + random_prob)
    random_words = torch.randint(tokenizer.first_word_id, tokenizer.vocab_size, tokens.shape, generator=generator)
    inputs = torch.where(to_mask, torch.full_like(tokens, tokenizer.mask_id), tokens)
    inputs = torch.where(to_random, random_words, inputs)
    labels = torch.where(selected, tokens, torch.full_like(tokens, IGNORE_INDEX))
    return inputs, labels
