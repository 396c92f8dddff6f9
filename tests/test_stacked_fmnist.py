"""Tests for benchmarks/stacked_fmnist.py: stacking, mode ids, modes and KL on hand-made inputs, packing, a smoke run."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import torch


ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("stacked_fmnist", ROOT / "benchmarks" / "stacked_fmnist.py")
stacked = importlib.util.module_from_spec(spec)
sys.modules["stacked_fmnist"] = stacked  # dataclasses look their module up here
spec.loader.exec_module(stacked)


def test_stack_images_puts_each_image_in_its_channel():
    images = torch.arange(5, dtype=torch.float32).view(5, 1, 1, 1).expand(5, 1, 28, 28)
    index = torch.tensor([[0, 1, 2], [4, 4, 3]])
    out = stacked.stack_images(images, index)
    assert out.shape == (2, 3, 28, 28)
    torch.testing.assert_close(out[:, :, 7, 9], index.float())
    with pytest.raises(ValueError, match=r"\(M, 3\)"):
        stacked.stack_images(images, torch.tensor([[0, 1]]))


def test_triplet_ids():
    classes = torch.tensor([[0, 0, 0], [1, 2, 3], [9, 9, 9]])
    assert stacked.triplet_ids(classes).tolist() == [0, 123, 999]
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        stacked.triplet_ids(torch.tensor([[0, 10, 1]]))


def test_uniform_triplets_give_kl_zero_and_all_modes():
    all_triplets = torch.cartesian_prod(torch.arange(10), torch.arange(10), torch.arange(10))  # (1000, 3)
    ids = stacked.triplet_ids(all_triplets.repeat(26, 1))
    result = stacked.mode_statistics(ids)
    assert result["modes"] == 1000 and result["samples"] == 26000
    assert result["kl"] == pytest.approx(0.0, abs=1e-12)


def test_one_triplet_only_gives_log_1000():
    result = stacked.mode_statistics(torch.full((500,), 417))
    assert result["modes"] == 1
    assert result["kl"] == pytest.approx(math.log(1000))


def test_kl_matches_scipy_on_an_uneven_histogram():
    from scipy.special import rel_entr

    ids = torch.tensor([0] * 3 + [5] * 1 + [999] * 4)
    p = torch.bincount(ids, minlength=1000).double() / len(ids)
    expected = float(rel_entr(p.numpy(), torch.full((1000,), 1e-3, dtype=torch.float64).numpy()).sum())
    result = stacked.mode_statistics(ids)
    assert result["modes"] == 3 and result["kl"] == pytest.approx(expected)


def test_classify_channels_applies_the_classifier_per_channel():
    class MeanClassifier(torch.nn.Module):  # class = round(mean pixel) clipped to 0..9
        def forward(self, x):
            return torch.nn.functional.one_hot(x.mean(dim=(1, 2, 3)).round().long().clamp(0, 9), 10).float()

    images = torch.tensor([[2.0, 7.0, 0.0], [9.0, 1.0, 4.0]]).view(2, 3, 1, 1).expand(2, 3, 28, 28)
    predicted = stacked.classify_channels(MeanClassifier(), images, batch_size=4)
    assert predicted.tolist() == [[2, 7, 0], [9, 1, 4]]


def test_packed_discriminator_judges_pairs():
    torch.manual_seed(0)
    discriminator = stacked.PackedDiscriminator(base_channels=4, pack=2)
    assert discriminator(torch.randn(6, 3, 28, 28)).shape == (3,)
    with pytest.raises(ValueError, match="multiple of pack=2"):
        discriminator(torch.randn(5, 3, 28, 28))


def test_quick_run_prints_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(stacked, "checkpoint_file", lambda config: tmp_path / "stacked.pt")
    assert stacked.main(["--quick", "--json", "--steps", "4", "--samples", "200"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["steps"] == 4 and results["generated"]["samples"] == 200
    assert 1 <= results["generated"]["modes"] <= 200 and results["real"]["modes"] > 50
    assert 0.0 <= results["real"]["kl"] < results["generated"]["kl"] <= math.log(1000)
    # a finished run resumes into 'done' and only reports
    assert stacked.main(["--quick", "--json", "--steps", "4", "--samples", "200"]) == 0
    assert json.loads(capsys.readouterr().out)["generated"] == results["generated"]


def test_a_longer_run_continues_from_the_saved_state(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(stacked, "checkpoint_file", lambda config: tmp_path / "stacked.pt")
    stacked.main(["--quick", "--json", "--steps", "3", "--samples", "100"])
    capsys.readouterr()
    assert stacked.main(["--quick", "--json", "--steps", "5", "--samples", "100"]) == 0
    captured = capsys.readouterr()
    assert "resumed from" in captured.err and "phase train, step 3" in captured.err
    results = json.loads(captured.out)
    assert results["steps"] == 5 and results["config"]["steps"] == 5


def test_channel_kls_are_zero_for_even_classes_and_log10_for_one_class():
    even = torch.arange(10).repeat(3, 1).T  # (10, 3): every class once per channel
    one = torch.zeros(10, 3, dtype=torch.long)
    assert stacked.channel_kls(even) == [0.0, 0.0, 0.0]
    assert stacked.channel_kls(one) == [round(math.log(10), 4)] * 3



def test_old_checkpoint_configs_load_and_the_flags_build_the_config(monkeypatch, capsys):
    old = {"steps": 30, "batch_size": 16, "latent_dim": 128, "base_channels": 8, "pack": 2, "lr": 1e-4, "decay": True,
           "label_smoothing": 0.1, "ema": 0.9, "precision": "fp32", "samples": 1000, "checkpoint_every": 10,
           "train_limit": 3000, "seed": 0, "quick": True}  # a checkpoint's config before BenchmarkConfig(GANConfig)
    config = stacked.BenchmarkConfig.from_dict(old)
    assert (config.g_lr, config.decay_steps, config.ema, config.label_smoothing) == (1e-4, 30, 0.9, 0.1)
    assert stacked.BenchmarkConfig.from_dict({**old, "decay": False}).decay_steps == 0
    assert stacked._same_run(old, config.replace(steps=60, decay_steps=60))  # a longer run continues it
    assert not stacked._same_run(old, config.replace(decay_steps=0)) and not stacked._same_run({"x": 1}, config)
    with pytest.raises(ValueError, match="ema must lie"):
        stacked.BenchmarkConfig(ema=1.5)
    seen = []
    monkeypatch.setattr(stacked, "run", lambda config, resume, log: seen.append(config) or {})
    stacked.main(["--quick", "--json", "--steps", "7", "--no-decay"])
    stacked.main(["--quick", "--json", "--steps", "7", "--ema", "0"])
    capsys.readouterr()
    assert [(c.steps, c.decay_steps, c.ema) for c in seen] == [(7, 0, 0.999), (7, 7, 0.0)]
