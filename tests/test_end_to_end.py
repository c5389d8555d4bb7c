r"""End to end on Cora from the shared offline data: brief DGI pretraining
must beat the same encoder left at its random initialisation.

Measured on a loaded 2-core machine (hidden 128, 25 epochs, lr 0.005, seeds
0-3): trained 78.1-80.3 %, random initialisation 59.9-62.5 %, so a margin
of 16-20 points; the test asks for 5. About 2-8 s.
"""
import torch

from graphcl.data import load_dataset
from graphcl.eval import linear_probe
from graphcl.experiment import run_experiment
from graphcl.models import build_method

HIDDEN, EPOCHS, LR, SEED = 128, 25, 0.005, 0
MARGIN = 5.0  # percentage points


def test_pretraining_beats_random_encoder_on_cora(shared_root):
    metrics = run_experiment('dgi', 'Cora', root=str(shared_root),
                             seeds=[SEED], epochs=EPOCHS, lr=LR,
                             patience=0, hidden=HIDDEN, progress=False,
                             verbose=False)
    assert metrics['dataset'] == 'Cora'
    assert metrics['epochs'] == [EPOCHS]
    trained = metrics['test_acc'][0]

    # The same model with the same initialisation, never trained, probed on
    # the same (row-normalised) features.
    data = load_dataset('Cora', root=shared_root)
    assert data.num_nodes == 2708 and int(data.test_mask.sum()) == 1000
    data.x = data.x / data.x.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    torch.manual_seed(SEED)
    model = build_method('dgi', data.num_features, hidden=HIDDEN, seed=SEED)
    probe = linear_probe(model.embed(data), data.y, data.train_mask,
                         data.val_mask, data.test_mask)
    random = 100 * probe.test_acc

    assert trained >= random + MARGIN, (trained, random)
    assert trained >= 70.0, trained
