import math

import pytest
import torch

from gan_course.data import toy2d


@pytest.mark.parametrize("name", sorted(toy2d.TOY_DISTRIBUTIONS))
def test_every_distribution_samples_reproducibly(name):
    a = toy2d.sample(name, 500, torch.Generator().manual_seed(3))
    b = toy2d.sample(name, 500, torch.Generator().manual_seed(3))
    assert a.shape == (500, 2) and torch.isfinite(a).all()
    torch.testing.assert_close(a, b)


def test_ring_and_grid_follow_the_protocol():
    ring, grid = toy2d.get("ring-8"), toy2d.get("grid-25")
    assert ring.sigma == 0.01 and grid.sigma == 0.05
    torch.testing.assert_close(ring.modes.norm(dim=1), torch.ones(8))
    angles = torch.atan2(ring.modes[:, 1], ring.modes[:, 0]) % (2 * math.pi)
    torch.testing.assert_close(angles.sort().values, 2 * math.pi * torch.arange(8) / 8, atol=1e-5, rtol=0)
    assert grid.modes.shape == (25, 2) and set(grid.modes.flatten().tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


def test_samples_sit_on_their_modes_and_cover_them():
    for name in ("ring-8", "grid-25"):
        dist = toy2d.get(name)
        points = dist.sample(5000, torch.Generator().manual_seed(0))
        distances, nearest = torch.cdist(points, dist.modes).min(dim=1)
        assert (distances < 4 * dist.sigma).float().mean() > 0.99
        assert nearest.unique().numel() == len(dist.modes)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="unknown toy distribution 'ring-9'.*ring-8"):
        toy2d.get("ring-9")
    with pytest.raises(ValueError, match="positive"):
        toy2d.sample("ring-8", 0)


def test_your_own_data_from_code_and_csv(tmp_path):
    mix = toy2d.mixture([[0.0, 0.0], [2.0, 0.0]], sigma=0.1)
    points = mix.sample(2000, torch.Generator().manual_seed(0))
    nearest = torch.cdist(points, mix.modes).argmin(dim=1)
    assert abs(nearest.float().mean().item() - 0.5) < 0.05, "equal weights"
    torch.testing.assert_close(points[nearest == 1].std(dim=0), torch.tensor([0.1, 0.1]), atol=0.01, rtol=0)
    cloud = toy2d.point_cloud(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert cloud.modes is None and set(map(tuple, cloud.sample(50).tolist())) == {(1.0, 2.0), (3.0, 4.0)}
    (tmp_path / "mix.csv").write_text("x,y,sigma\n0,0,0.05\n1,1,0.05\n")
    from_file = toy2d.as_distribution(tmp_path / "mix.csv")
    assert from_file.sigma == 0.05 and from_file.modes.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert toy2d.as_distribution(toy2d.spec(from_file)).modes.tolist() == from_file.modes.tolist()
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    for bad, message in ((tmp_path / "bad.csv", "columns x, y"), ([[1.0, 2.0, 3.0]], r"shape \(N, 2\)"),
                         ({"centres": [[0.0, 0.0]], "sigma": -1.0}, "sigma must be a positive"),
                         ([[0.0, float("nan")]], "NaN")):
        with pytest.raises(ValueError, match=message):
            toy2d.as_distribution(bad)
