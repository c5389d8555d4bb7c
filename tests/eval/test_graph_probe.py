r"""graph_linear_probe: the OGB molecule protocol on frozen graph
embeddings (the probe's weight decay chosen on 'valid', scored on 'test'
with OGB's ROC-AUC)."""
import pytest
import torch

from graphcl.eval import LogisticRegression, graph_linear_probe


def two_classes(n=600, seed=0):
    # Two overlapping classes: ROC-AUC on scores differs clearly from the
    # ROC-AUC of hard 0/1 predictions (a balanced accuracy).
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(2, (n, ), generator=gen)
    z = torch.randn(n, 8, generator=gen) + 0.5 * y.view(-1, 1).float()
    perm = torch.randperm(n, generator=gen)
    split = {'train': perm[:300], 'valid': perm[300:450],
             'test': perm[450:]}
    return z, y, split


def test_ogb_rocauc_is_computed_on_the_probes_scores():
    pytest.importorskip('ogb')
    from sklearn.metrics import roc_auc_score
    from graphcl.data import ogb_graph_metric
    z, y, split = two_classes()
    result = graph_linear_probe(z, y.view(-1, 1).float(), split,
                                metric=ogb_graph_metric('ogbg-molbace'),
                                weight_decays=[0.0])
    clf = LogisticRegression(8, 2).fit(z[split['train']], y[split['train']])
    with torch.no_grad():
        logits = clf(z[split['test']])
    score = logits[:, 1] - logits[:, 0]
    y_test = y[split['test']].numpy()
    expected = roc_auc_score(y_test, score.numpy())
    hard = roc_auc_score(y_test, logits.argmax(1).numpy())
    assert abs(expected - hard) > 0.05  # the case tells them apart
    # Before: ROC-AUC of the predicted classes (0.767 here, not 0.879).
    assert result.test_acc == pytest.approx(expected, abs=1e-6)


def test_scores_false_gives_the_metric_predicted_classes():
    z, y, split = two_classes()
    seen = []

    def metric(y_true, y_pred):
        seen.append(y_pred.dim())
        return float((y_true == y_pred).float().mean())

    a = graph_linear_probe(z, y, split, metric=metric, scores=False,
                           weight_decays=[0.0])
    assert seen == [1, 1]
    assert a == graph_linear_probe(z, y, split, weight_decays=[0.0])


def test_nan_labels_are_left_out_and_infinite_ones_refused():
    z, y, split = two_classes()
    missing = y.float()
    hidden = split['train'][:20]
    missing[hidden] = float('nan')
    kept = {**split, 'train': split['train'][20:]}
    assert graph_linear_probe(z, missing, split, weight_decays=[0.0]) == \
        graph_linear_probe(z, y, kept, weight_decays=[0.0])
    # Before, +-inf went through nan_to_num to +-3.4e38, then .long() to a
    # negative number: those graphs were silently dropped as unlabelled.
    for inf in (float('inf'), float('-inf')):
        bad = y.float()
        bad[hidden] = inf
        with pytest.raises(ValueError, match="'y' holds infinite values"):
            graph_linear_probe(z, bad, split)


def test_bad_split_and_tasks_are_refused():
    z, y, split = two_classes()
    with pytest.raises(ValueError, match=r"lacks \['valid'\]"):
        graph_linear_probe(z, y, {'train': split['train'],
                                  'test': split['test']})
    with pytest.raises(ValueError, match='2 tasks per graph'):
        graph_linear_probe(z, torch.stack([y, y], 1), split)


def test_the_graph_protocol_keeps_the_absolute_grid():
    from graphcl.eval import ABSOLUTE_WEIGHT_DECAYS, linear_probe
    z, y, split = two_classes()
    z = 50.0 * z  # sum-pooled graph embeddings are large
    result = graph_linear_probe(z, y, split)
    assert result.scale == 1.0
    assert [g[0] for g in result.grid] == list(ABSOLUTE_WEIGHT_DECAYS)
    plain = linear_probe(z, y, split['train'], split['valid'],
                         split['test'], weight_decays=ABSOLUTE_WEIGHT_DECAYS,
                         rescale=False)
    assert plain.grid == result.grid
    rescaled = graph_linear_probe(z, y, split, rescale=True)
    assert rescaled.scale == pytest.approx(
        float(z[split['train']].double().pow(2).mean().sqrt()))
