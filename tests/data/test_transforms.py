"""Batched transforms and the batch order."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import roi_align

from automl_vision.data.loader import BatchOrder
from automl_vision.data.transforms import EvalTransform, TrainTransform

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)


def _batch(b: int = 4, s: int = 12, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (b, s, s, 3), generator=g, dtype=torch.uint8)


def _normalized(batch: torch.Tensor) -> torch.Tensor:
    x = batch.permute(0, 3, 1, 2).float() / 255
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def test_eval_transform_resizes_then_centre_crops() -> None:
    batch = _batch(s=12)
    same = EvalTransform(12, 8, MEAN, STD)(batch)
    assert same.shape == (4, 3, 8, 8)
    torch.testing.assert_close(same, _normalized(batch)[:, :, 2:10, 2:10])
    resized = EvalTransform(24, 24, MEAN, STD)(batch)
    assert resized.shape == (4, 3, 24, 24)
    with pytest.raises(ValueError, match="must not exceed"):
        EvalTransform(8, 12, MEAN, STD)


def test_train_transform_full_crop_flip_only_is_exact() -> None:
    batch = _batch(s=8)
    t = TrainTransform(
        8, MEAN, STD, rng=np.random.default_rng(0),
        scale=(1.0, 1.0), ratio=(1.0, 1.0), color_jitter=0.0, flip=1.0,
    )  # fmt: skip
    out = t(batch)
    torch.testing.assert_close(out, _normalized(batch).flip(-1), atol=1e-5, rtol=0)
    t.flip = 0.0
    torch.testing.assert_close(t(batch), _normalized(batch), atol=1e-5, rtol=0)


def test_train_crop_boxes_follow_scale_and_ratio() -> None:
    t = TrainTransform(
        8, MEAN, STD, rng=np.random.default_rng(1), scale=(0.25, 0.5),
        ratio=(0.75, 4 / 3),
    )  # fmt: skip
    boxes = torch.from_numpy(t.crop_boxes(2000, 32, 32))
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 32).all() and (boxes[:, 3] <= 32).all()
    area = w * h / (32 * 32)
    assert area.min() >= 0.25 - 1e-4 and area.max() <= 0.5 + 1e-4
    ratio = w / h
    assert ratio.min() >= 0.75 - 1e-4 and ratio.max() <= 4 / 3 + 1e-4


def test_train_transform_is_seeded_and_varies() -> None:
    batch = _batch(b=8, s=16)

    def run(seed: int) -> torch.Tensor:
        return TrainTransform(8, MEAN, STD, rng=np.random.default_rng(seed))(batch)

    a, b, c = run(3), run(3), run(4)
    assert a.shape == (8, 3, 8, 8)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_colour_jitter_changes_colours_within_range() -> None:
    batch = _batch(b=16, s=8)
    plain = TrainTransform(
        8, (0, 0, 0), (1, 1, 1), rng=np.random.default_rng(0),
        scale=(1, 1), ratio=(1, 1), color_jitter=0.0, flip=0.0,
    )(batch)  # fmt: skip
    jittered = TrainTransform(
        8, (0, 0, 0), (1, 1, 1), rng=np.random.default_rng(0),
        scale=(1, 1), ratio=(1, 1), color_jitter=0.4, flip=0.0,
    )(batch)  # fmt: skip
    assert not torch.allclose(plain, jittered)
    assert jittered.min() >= 0 and jittered.max() <= 1


def test_batch_order_is_a_seeded_permutation_per_epoch() -> None:
    order = BatchOrder(10, 4, shuffle=True, seed=7)
    assert len(order) == 3
    order.set_epoch(1)
    e1 = np.concatenate(list(order))
    order.set_epoch(2)
    e2 = np.concatenate(list(order))
    assert sorted(e1) == list(range(10)) and not np.array_equal(e1, e2)
    order.set_epoch(1)
    assert np.array_equal(np.concatenate(list(order)), e1)
    assert [len(b) for b in BatchOrder(10, 4, shuffle=False)] == [4, 4, 2]
    single = BatchOrder(9, 4, shuffle=True, drop_single=True)
    assert [len(b) for b in single] == [4, 4] and len(single) == 2
    assert [len(b) for b in BatchOrder(1, 4, shuffle=True, drop_single=True)] == [1]


def test_batch_order_shards_cover_everything_with_equal_lengths() -> None:
    ranks = [BatchOrder(11, 2, shuffle=True, seed=0, rank=r, world=2) for r in range(2)]
    for r in ranks:
        r.set_epoch(3)
    parts = [r.positions() for r in ranks]
    assert len(parts[0]) == len(parts[1]) == 6 and len(ranks[0]) == len(ranks[1]) == 3
    assert set(parts[0]) | set(parts[1]) == set(range(11))


def test_fused_colour_jitter_equals_the_sequential_operations() -> None:
    x = _batch(b=6, s=8).permute(0, 3, 1, 2).float()
    t = TrainTransform(8, MEAN, STD, rng=np.random.default_rng(5), color_jitter=0.4)
    factors = torch.from_numpy(t.rng.uniform(0.6, 1.4, size=(3, 6)).astype(np.float32))
    fused = t._jitter(x.clone(), factors, torch.tensor(1 / 255), torch.tensor(0.0))
    b, c, s = factors.view(3, 6, 1, 1, 1)

    def gray(y: torch.Tensor) -> torch.Tensor:
        return 0.299 * y[:, :1] + 0.587 * y[:, 1:2] + 0.114 * y[:, 2:]

    y = b * x / 255  # brightness
    m = gray(y).mean(dim=(2, 3), keepdim=True)
    y = c * (y - m) + m  # contrast
    y = s * y + (1 - s) * gray(y)  # saturation
    torch.testing.assert_close(fused, y, atol=1e-5, rtol=1e-5)


def test_grid_crops_equal_roi_align_bins_and_flip() -> None:
    x = _batch(b=6, s=20).permute(0, 3, 1, 2).float().contiguous()
    t = TrainTransform(16, MEAN, STD, rng=np.random.default_rng(2))
    boxes = t.crop_boxes(6, 20, 20)
    flip = np.array([True, False, True, False, False, True])
    grid = t.crop_grid(x, torch.from_numpy(t.grid_coefficients(boxes, flip, 20, 20)))
    rois = torch.cat([torch.arange(6.0).unsqueeze(1), torch.from_numpy(boxes)], 1)
    single = roi_align(x, rois, output_size=16, sampling_ratio=1, aligned=True)
    single[torch.from_numpy(flip)] = single[torch.from_numpy(flip)].flip(-1)
    torch.testing.assert_close(grid, single, atol=1e-3, rtol=1e-4)
    roi = t.crop_roi(x, boxes, flip)
    assert roi.shape == grid.shape == (6, 3, 16, 16)


def test_large_shrinks_are_antialiased() -> None:
    stripes = torch.zeros(2, 64, 64, 3, dtype=torch.uint8)
    stripes[:, :, ::2] = 255  # one-pixel stripes: aliasing turns them into a flat 0 or 255
    t = TrainTransform(
        8, (0, 0, 0), (1, 1, 1), rng=np.random.default_rng(0),
        scale=(1, 1), ratio=(1, 1), color_jitter=0.0, flip=0.0,
    )  # fmt: skip
    out = t(stripes)
    torch.testing.assert_close(out, torch.full_like(out, 0.5), atol=0.02, rtol=0)
