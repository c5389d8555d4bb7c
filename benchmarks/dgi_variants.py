"""DGI variants on Cora and CiteSeer, 10 pretraining seeds each: which
departures from the defaults change the linear probe's validation and test
accuracy. Used to choose the `dgi` recipe's settings on validation accuracy.

Variants (names combine with '+'):
  pyg_init   bilinear critic initialised as PyG (uniform in 1/sqrt(D))
  xavier     critic initialised as DGI's reference code (nn.Bilinear +
             Xavier-uniform, about 10x smaller); the recipe's default now
  slope1     one PReLU slope (DGI's reference code) instead of one per channel
  bias       a bias on the critic (nn.Bilinear has one; PyG's class has not)
and run options given as JSON (patience, lr).

    python benchmarks/dgi_variants.py Cora 'xavier:{}' 'pyg_init:{"patience": 100}'

Prints one line per variant; runs on one thread.
"""
import json
import sys
import time

import torch

import graphcl.experiment as experiment
from graphcl.nn import BilinearDiscriminator
from graphcl.nn.activations import PReLU

_build = experiment.build_method


class BiasedBilinear(BilinearDiscriminator):
    """DGI's reference critic: z^T W s + b."""
    def __init__(self, channels: int, init: str):
        super().__init__(channels, init=init)
        self.bias = torch.nn.Parameter(torch.zeros(1))

    def forward(self, z, summary, batch=None):
        return super().forward(z, summary, batch) + self.bias


def builder(variant: str):
    parts = set(variant.split('+'))
    unknown = parts - {'pyg_init', 'xavier', 'slope1', 'bias'}
    if unknown:
        raise SystemExit(f'unknown variant part(s) {sorted(unknown)}')

    def build(method, in_channels, **options):
        options['disc_init'] = 'pyg' if 'pyg_init' in parts else 'xavier'
        model = _build(method, in_channels, **options)
        if 'bias' in parts:
            old = model.discriminator
            model.discriminator = BiasedBilinear(old.channels, old.init)
            model.discriminator.weight.data.copy_(old.weight.data)
        if 'slope1' in parts:
            model.encoder.acts[0] = PReLU(1)
        return model
    return build


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    dataset = sys.argv[1]
    for arg in sys.argv[2:]:
        variant, options = arg.split(':', 1)
        options = json.loads(options)
        experiment.build_method = builder(variant)
        t0 = time.time()
        m = experiment.run_experiment('dgi', dataset, seeds=10,
                                      progress=False, verbose=False,
                                      **options)
        print(f"{dataset} {variant} {options}: val {m['val_acc_mean']:.2f} "
              f"test {m['test_acc_mean']:.2f} ± {m['test_acc_std']:.2f}, "
              f"epochs {m['epochs']} ({time.time() - t0:.0f} s)", flush=True)


if __name__ == '__main__':
    main()
