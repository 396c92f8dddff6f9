"""The course classifier: checkpoint round trip, corrupt files retrain, clear missing error."""

import pytest
import torch

from gan_course.core import checkpoints
from gan_course.evaluation import judge
from gan_course.models import cnn


@pytest.fixture
def checkpoint_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(checkpoints.CHECKPOINT_ENV, str(tmp_path))
    monkeypatch.setenv("GAN_COURSE_QUICK", "1")
    return tmp_path


@pytest.fixture
def fake_training(monkeypatch):
    """Replace the real recipe by a tiny deterministic 'training' that counts its calls."""
    calls = []

    def train(model, quick, progress=True):
        calls.append(quick)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(0.01 * len(calls))
        return {"test_accuracy": 0.5, "seconds": 0.0}

    monkeypatch.setattr(judge, "train_fashion_classifier", train)
    return calls


def test_train_then_load_round_trip(checkpoint_dir, fake_training):
    model, info = judge.get_fashion_classifier(progress=False)
    assert info["source"] == "trained" and fake_training == [True]
    assert (checkpoint_dir / "fashion_cnn-quick.pt").is_file()
    assert not model.training
    again, info2 = judge.get_fashion_classifier(train_if_missing=False)
    assert info2["source"] == "loaded" and info2["test_accuracy"] == 0.5
    assert fake_training == [True]  # not trained a second time
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_load_or_train_round_trip_with_a_real_quick_train(checkpoint_dir):
    torch.manual_seed(0)
    model = cnn.FashionCNN(cnn.FashionCNNConfig(channels=(4, 4, 8), feature_dim=8))
    x, y = torch.rand(32, 1, 28, 28) * 2 - 1, torch.arange(32) % 10

    def train(m):
        optimizer = torch.optim.SGD(m.parameters(), lr=0.1)
        for _ in range(3):
            loss = torch.nn.functional.cross_entropy(m(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return {"loss": loss.item()}

    path = checkpoints.checkpoint_path("tiny_cnn")
    meta = model.config.as_meta()
    first = checkpoints.load_or_train(path, model, train, meta=meta)
    fresh = cnn.FashionCNN(cnn.FashionCNNConfig(channels=(4, 4, 8), feature_dim=8))
    second = checkpoints.load_or_train(path, fresh, lambda m: pytest.fail("should load, not train"), meta=meta)
    assert (first["source"], second["source"]) == ("trained", "loaded")
    assert second["loss"] == first["loss"]
    model.eval(), fresh.eval()
    torch.testing.assert_close(model(x), fresh(x))


def test_corrupt_checkpoint_is_retrained_not_a_crash(checkpoint_dir, fake_training):
    path = checkpoint_dir / "fashion_cnn-quick.pt"
    path.write_bytes(b"this is not a torch file")
    with pytest.raises(judge.ClassifierMissingError, match="lesson 04"):
        judge.get_fashion_classifier(train_if_missing=False)
    model, info = judge.get_fashion_classifier(progress=False)
    assert info["source"] == "trained" and fake_training == [True]
    assert judge.get_fashion_classifier()[1]["source"] == "loaded"


def test_missing_checkpoint_without_training_names_lesson_04(checkpoint_dir, fake_training):
    with pytest.raises(judge.ClassifierMissingError, match=r"04_cnn\.ipynb.*train_if_missing=True"):
        judge.get_fashion_classifier(train_if_missing=False)
    assert fake_training == []


def test_checkpoint_for_another_architecture_is_not_loaded(checkpoint_dir, fake_training):
    checkpoints.save({"model": {}, "meta": {"arch": "something else"}, "results": {}},
                     checkpoint_dir / "fashion_cnn-quick.pt")
    with pytest.raises(judge.ClassifierMissingError, match="something else"):
        judge.get_fashion_classifier(train_if_missing=False)
    assert judge.get_fashion_classifier(progress=False)[1]["source"] == "trained"


def test_real_quick_recipe_learns(checkpoint_dir, monkeypatch):
    monkeypatch.setattr(judge, "QUICK", judge.TrainingRecipe(train_limit=512, test_limit=256, epochs=1,
                                                             batch_size=64))
    torch.manual_seed(0)
    info = judge.train_fashion_classifier(cnn.FashionCNN(), quick=True, progress=False)
    assert info["recipe"]["train_limit"] == 512
    assert 0.5 < info["test_accuracy"] <= 1.0  # chance is 0.1
    assert len(info["loss"]) == len(info["test_accuracy_per_epoch"]) == 1
