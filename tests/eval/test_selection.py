import pytest

from graphcl.eval import ProbeResult, select_pooled


def result(*grid):
    best = max(grid, key=lambda g: g[1])
    return ProbeResult(best[1], best[2], best[0], tuple(grid))


def test_pooled_choice_maximises_the_mean_validation_score():
    # Run 0 alone prefers 1e-5, run 1 alone prefers 1e-4; the mean
    # validation score prefers 1e-4 (0.80 against 0.79).
    runs = [result((1e-5, 0.82, 0.70), (1e-4, 0.81, 0.75)),
            result((1e-5, 0.76, 0.60), (1e-4, 0.79, 0.65))]
    assert [r.weight_decay for r in runs] == [1e-5, 1e-4]
    wd, chosen = select_pooled(runs)
    assert wd == 1e-4
    assert [(r.val_acc, r.test_acc, r.weight_decay) for r in chosen] == \
        [(0.81, 0.75, 1e-4), (0.79, 0.65, 1e-4)]
    assert chosen[0].grid == runs[0].grid


def test_one_run_keeps_its_own_choice_and_ties_go_first():
    run = result((0.0, 0.5, 0.4), (1e-3, 0.9, 0.8), (1e-2, 0.9, 0.7))
    wd, [chosen] = select_pooled([run])
    assert wd == run.weight_decay == 1e-3 and chosen.test_acc == 0.8


def test_bad_input():
    with pytest.raises(ValueError, match='empty'):
        select_pooled([])
    with pytest.raises(ValueError, match='no grid'):
        select_pooled([ProbeResult(0.5, 0.5, 0.0)])
    with pytest.raises(ValueError, match='one grid'):
        select_pooled([result((0.0, 0.5, 0.5)),
                       result((1e-4, 0.5, 0.5))])


def test_grids_with_nan_or_foreign_results_are_refused():
    with pytest.raises(ValueError, match=r'Run 1 has the grid row.*finite'):
        select_pooled([result((0.0, 0.5, 0.5)),
                       ProbeResult(0.5, 0.5, 0.0,
                                   ((0.0, float('nan'), 0.5), ))])
    with pytest.raises(ValueError, match=r'Run 0 has the grid row'):
        select_pooled([ProbeResult(0.5, 0.5, 0.0, ((0.0, 0.5), ))])
    with pytest.raises(ValueError, match='Run 0 is a dict, not a '
                                         'ProbeResult'):
        select_pooled([{'grid': ((0.0, 0.5, 0.5), )}])


def test_the_choice_never_looks_at_test_scores():
    # Test scores that favour the other weight decay in every run, and
    # validation ties broken by grid order, not by test.
    runs = [result((0.0, 0.70, 0.10), (1e-3, 0.70, 0.99), (1e-2, 0.60, 1.0)),
            result((0.0, 0.80, 0.20), (1e-3, 0.80, 0.98), (1e-2, 0.50, 1.0))]
    wd, chosen = select_pooled(runs)
    assert wd == 0.0 and [r.test_acc for r in chosen] == [0.10, 0.20]


def test_one_real_fit_gives_linear_probes_own_choice():
    import torch
    from graphcl.eval import linear_probe
    gen = torch.Generator().manual_seed(1)
    y = torch.randint(3, (150, ), generator=gen)
    z = torch.randn(150, 6, generator=gen) + torch.eye(3, 6)[y]
    idx = torch.randperm(150, generator=gen)
    fit = linear_probe(z, y, idx[:50], idx[50:100], idx[100:],
                       weight_decays=[1e-1, 0.0, 1e-3, 0.0])
    wd, [chosen] = select_pooled([fit])
    assert wd == fit.weight_decay and chosen == fit
