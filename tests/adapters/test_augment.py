import pytest
import torch

from graphcl.adapters.augment import (Compose, GaussianNoise, PerSample,
                                      RandomAffine, RandomErasing,
                                      RandomFlip, RandomResizedCrop,
                                      default_augmentation, make_generator)

IMAGES = torch.rand(6, 1, 8, 8)
SEQS = torch.randn(6, 2, 40)
ALL = [
    RandomAffine(degrees=20, translate=0.1, scale=(0.8, 1.1), shear=10),
    RandomResizedCrop(scale=(0.5, 1.0)),
    RandomFlip(),
    GaussianNoise(0.1),
    RandomErasing(p=1.0),
]


@pytest.mark.parametrize('aug', ALL, ids=lambda a: type(a).__name__)
@pytest.mark.parametrize('x', [IMAGES, SEQS], ids=['image', 'sequence'])
def test_shape_and_seed_reproducibility(aug, x):
    a, b = aug(x, generator=3), aug(x, generator=3)
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(aug(x, g1), aug(x, g2))
    assert torch.equal(aug(x, g1), aug(x, g2))  # generators advance alike


def test_different_seeds_and_examples_differ():
    aug = default_augmentation(IMAGES)
    x = IMAGES[:1].expand(4, -1, -1, -1)
    out = aug(x, generator=0)
    assert not torch.allclose(out[0], out[1])  # per-example parameters
    assert not torch.allclose(aug(IMAGES, 0), aug(IMAGES, 1))


def test_identity_settings():
    assert torch.equal(RandomAffine()(IMAGES, 0), IMAGES) or torch.allclose(
        RandomAffine()(IMAGES, 0), IMAGES, atol=1e-5)
    assert torch.equal(GaussianNoise(0.5, p=0.0)(IMAGES, 0), IMAGES)
    flipped = RandomFlip(p=1.0)(SEQS, 0)
    assert torch.equal(flipped, SEQS.flip(-1))


def test_erasing_sets_a_box_to_value():
    x = torch.ones(4, 3, 8, 8)
    out = RandomErasing(scale=(0.25, 0.25), value=0.0, p=1.0)(x, 0)
    erased = (out == 0).all(dim=1)  # all channels erased together
    assert (erased.flatten(1).sum(1) == 16).all()


def test_per_sample_callable_is_reproducible_and_keeps_global_rng():
    fn = lambda xi: xi + torch.rand(())  # noqa: E731 (like torchvision)
    aug = Compose([fn, GaussianNoise(0.0)])
    assert isinstance(aug.transforms[0], PerSample)
    state = torch.get_rng_state()
    a, b = aug(IMAGES, 7), aug(IMAGES, 7)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, b)
    assert not torch.allclose(a[0] - IMAGES[0], a[1] - IMAGES[1])


def test_per_sample_shape_change_is_rejected():
    with pytest.raises(ValueError, match='same shape|input shape'):
        PerSample(lambda xi: xi[:, :4])(IMAGES, 0)


def test_bad_input_rank():
    with pytest.raises(ValueError, match=r'\[N, C, L\]'):
        GaussianNoise()(torch.rand(8, 8), 0)
    with pytest.raises(ValueError, match='spatial dimension'):
        RandomAffine(degrees=5)(torch.rand(2, 1, 4, 4, 4), 0)
    with pytest.raises(TypeError, match='int seed'):
        make_generator('zero')


def test_bad_arguments():
    with pytest.raises(ValueError, match='probability'):
        GaussianNoise(p=2.0)
    with pytest.raises(ValueError, match='scale'):
        RandomResizedCrop(scale=(0.0, 1.0))


def test_compose_chains_with_one_generator_and_wraps_callables():
    noise, erase = GaussianNoise(0.1), RandomErasing(p=1.0)
    aug = Compose([noise, erase])
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(aug(IMAGES, g1), erase(noise(IMAGES, g2), g2))
    assert repr(aug) == ('Compose([GaussianNoise(std=0.1, p=1.0), '
                         'RandomErasing(scale=(0.02, 0.2), value=0.0, '
                         'p=1.0)])')
    with pytest.raises(TypeError, match='list'):
        Compose(GaussianNoise(0.1))
