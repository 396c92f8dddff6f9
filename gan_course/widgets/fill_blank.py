"""Fill in the blank with a pre-trained toy BERT (lesson 07).

``fill_blank`` ranks words by ``softmax(mlm_logits[mask position])``; ``FillBlankWidget`` is a thin ipywidgets shell.
"""

from __future__ import annotations

import torch

from gan_course.core import runtime


def fill_blank(model, tokenizer, sentence: str, top_k: int = 5) -> list[tuple[str, float]]:
    """The ``top_k`` most likely words for the single ``[MASK]`` in ``sentence``, as (word, probability).

    Special tokens are never proposed; ``"first . [SEP] second ."`` is encoded as a sentence pair.
    """
    if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
        raise ValueError(f"top_k must be a positive int, got {top_k!r}")
    first, _, second = sentence.partition("[SEP]")
    ids, segments = tokenizer.encode_pair(first, second if second.strip() else None)
    mask_count = ids.count(tokenizer.mask_id)
    if mask_count != 1:
        raise ValueError(f"the sentence must hold exactly one [MASK], found {mask_count} in {sentence!r}")
    if len(ids) > model.config.max_len:
        raise ValueError(f"the sentence needs {len(ids)} tokens but the model takes at most {model.config.max_len}")
    tokens = torch.tensor([ids])  # (1, T)
    with torch.no_grad(), runtime.evaluating(model):
        logits = model(tokens, torch.tensor([segments])).mlm_logits[0, ids.index(tokenizer.mask_id)]  # (V,)
    probabilities = torch.softmax(logits, dim=-1)
    probabilities[list(tokenizer.special_ids)] = -1.0  # rank words only
    top = probabilities.topk(min(top_k, tokenizer.vocab_size - len(tokenizer.special_ids)))
    return [(tokenizer.vocab[i], round(p, 6)) for p, i in zip(top.values.tolist(), top.indices.tolist())]


class FillBlankWidget:
    """Text box + button + output: type a sentence with ``[MASK]``, press the button, read the ranked words."""

    def __init__(self, model, tokenizer, sentence: str = "the cats [MASK] the ball .", top_k: int = 5):
        import ipywidgets as widgets  # only the shell needs ipywidgets

        self.model, self.tokenizer, self.top_k = model, tokenizer, top_k
        self.text = widgets.Text(value=sentence, description="sentence", layout=widgets.Layout(width="32em"))
        self.button = widgets.Button(description="fill the blank")
        self.output = widgets.Output()
        self.button.on_click(self.on_click)
        self.box = widgets.VBox([widgets.HBox([self.text, self.button]), self.output])
        self.result: list[tuple[str, float]] | None = None
        self.message = ""

    def on_click(self, _button=None) -> list[tuple[str, float]] | None:
        """What the button runs: fill the blank in the current text and print the ranking (or the error)."""
        try:
            self.result = fill_blank(self.model, self.tokenizer, self.text.value, self.top_k)
            self.message = "\n".join(f"{word:>8s}  {p:6.1%}" for word, p in self.result)
        except ValueError as error:
            self.result, self.message = None, f"cannot fill: {error}"
        self.output.clear_output()
        with self.output:
            print(self.message)
        return self.result

    def _ipython_display_(self):
        from IPython.display import display

        self.on_click()
        display(self.box)
