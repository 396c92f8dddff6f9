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
