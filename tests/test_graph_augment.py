import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_undirected

from graphcl.corruptions import Compose, EdgeDrop
from graphcl.graph_augment import (AttributeMasking, EdgePerturbation,
                                   GraphCompose, GraphRandomChoice,
                                   NodeDropping, Subgraph, augmented_count,
                                   get_graph_augmentation)


def ring(n: int, features: int = 3, seed: int = 0) -> Data:
    # An undirected cycle (a path for n = 2, no edges for n < 2) with
    # random features, node ids as a node-level attribute and per-edge ids.
    g = torch.Generator().manual_seed(seed)
    if n > 1:
        i = torch.arange(n)
        edge_index = to_undirected(torch.stack([i, (i + 1) % n]),
                                   num_nodes=n)
    else:
        edge_index = torch.empty(2, 0, dtype=torch.long)
    return Data(x=torch.randn(n, features, generator=g),
                edge_index=edge_index, node_id=torch.arange(n),
                edge_id=torch.arange(edge_index.size(1)),
                y=torch.tensor([n % 2]))


def batch_of(sizes):
    return Batch.from_data_list([ring(n, seed=i)
                                 for i, n in enumerate(sizes)])


SIZES = [1, 2, 7, 10, 25, 40, 13]


def check_valid(out: Batch, original: Batch):
    # Consistent batch, ptr and per-graph pieces; no dangling edges.
    assert out.num_graphs == original.num_graphs
    assert out.batch.numel() == out.x.size(0) == out.node_id.numel()
    counts = torch.bincount(out.batch, minlength=out.num_graphs)
    assert torch.equal(out.ptr, torch.cat([torch.zeros(1, dtype=torch.long),
                                           counts.cumsum(0)]))
    assert bool((out.batch[out.edge_index[0]] ==
                 out.batch[out.edge_index[1]]).all())
    assert torch.equal(out.y, original.y)  # graph-level: untouched
    for g, orig in zip(out.to_data_list(), original.to_data_list()):
        assert g.num_nodes >= 1
        if g.edge_index.numel():
            assert int(g.edge_index.max()) < g.num_nodes
            assert int(g.edge_index.min()) >= 0
        assert g.edge_id.numel() == g.edge_index.size(1)
        assert g.x.size(0) == g.node_id.numel()


def original_edges(g: Data, orig: Data):
    # The view's edges mapped back to the original node ids.
    return {tuple(e) for e in g.node_id[g.edge_index].t().tolist()}


def test_augmented_count_is_exact_floor():
    sizes = torch.tensor([0, 1, 9, 10, 19, 20, 30, 100, 1000])
    assert augmented_count(sizes, 0.1).tolist() == [
        int(n / 10) for n in sizes.tolist()]
    assert augmented_count(sizes, 0.2).tolist() == [
        int(n * 0.2 + 1e-9) for n in sizes.tolist()]
    assert augmented_count(torch.tensor([100]), 0.29).tolist() == [29]


def test_node_dropping_rate_and_valid_output():
    b = batch_of(SIZES)
    out = NodeDropping(0.1, generator=0)(b)
    check_valid(out, b)
    for g, orig, n in zip(out.to_data_list(), b.to_data_list(), SIZES):
        assert g.num_nodes == n - int(n / 10)
        assert torch.equal(g.x, orig.x[g.node_id])
        kept = set(g.node_id.tolist())
        expected = {e for e in map(tuple, orig.edge_index.t().tolist())
                    if e[0] in kept and e[1] in kept}
        assert original_edges(g, orig) == expected
        assert torch.equal(g.node_id, g.node_id.sort()[0])  # order kept


def test_node_dropping_keeps_one_node_per_graph():
    b = batch_of(SIZES)
    out = NodeDropping(1.0, generator=3)(b)
    check_valid(out, b)
    assert torch.bincount(out.batch).tolist() == [1] * len(SIZES)
    assert out.edge_index.size(1) == 0


def test_seeding():
    b = batch_of(SIZES)
    for make in (lambda s: NodeDropping(0.3, generator=s),
                 lambda s: EdgePerturbation(0.3, add=False, generator=s),
                 lambda s: AttributeMasking(0.3, generator=s),
                 lambda s: Subgraph(0.3, generator=s),
                 lambda s: get_graph_augmentation('random4', 0.3,
                                                  add_edges=False,
                                                  generator=s)):
        a1, a2, a3 = make(1), make(1), make(2)
        o1, o2, o3 = a1(b), a2(b), a3(b)
        assert torch.equal(o1.x, o2.x) and torch.equal(o1.edge_index,
                                                       o2.edge_index)
        assert not (o1.x.shape == o3.x.shape and torch.equal(o1.x, o3.x)
                    and torch.equal(o1.edge_index, o3.edge_index))
        # Call after call: a sequence, not one repeated draw.
        assert not (torch.equal(a1(b).x, o1.x) and torch.equal(
            a1(b).edge_index, o1.edge_index))
    # The global RNG: reproducible with torch.manual_seed.
    torch.manual_seed(5)
    o1 = NodeDropping(0.3)(b)
    torch.manual_seed(5)
    assert torch.equal(NodeDropping(0.3)(b).node_id, o1.node_id)


def test_edge_perturbation_drops_and_adds_within_graphs():
    b = batch_of(SIZES)
    del b.edge_id  # added edges have no attributes
    out = EdgePerturbation(0.25, generator=0)(b)
    for g, orig in zip(out.to_data_list(), b.to_data_list()):
        m = orig.num_edges
        assert g.num_edges == m  # as many added as removed
        edges = [tuple(e) for e in g.edge_index.t().tolist()]
        old = set(map(tuple, orig.edge_index.t().tolist()))
        assert sum(e in old for e in edges) >= m - int(m * 0.25)
        assert all(0 <= u < g.num_nodes and 0 <= v < g.num_nodes
                   for u, v in edges)
    assert torch.equal(out.x, b.x)


def test_edge_perturbation_without_adding_follows_edge_attributes():
    b = batch_of(SIZES)
    out = EdgePerturbation(0.1, add=False, generator=0)(b)
    check_valid(out, b)
    for g, orig in zip(out.to_data_list(), b.to_data_list()):
        m = orig.num_edges
        assert g.num_edges == m - int(m / 10)
        assert torch.equal(g.edge_index, orig.edge_index[:, g.edge_id])


def test_edge_perturbation_refuses_to_invent_edge_attributes():
    b = batch_of(SIZES)
    with pytest.raises(ValueError, match="no 'edge_id'.*add=False"):
        EdgePerturbation(0.2, generator=0)(b)
    x, ei = b.x, b.edge_index
    with pytest.raises(ValueError, match="no 'edge_weight'"):
        EdgePerturbation(0.2, generator=0)(x, ei, torch.ones(ei.size(1)))


def test_attribute_masking_rate_and_noise():
    b = batch_of(SIZES)
    out = AttributeMasking(0.1, generator=0)(b)
    assert torch.equal(out.edge_index, b.edge_index)
    changed = (out.x != b.x).any(dim=1)
    per_graph = torch.bincount(b.batch[changed], minlength=len(SIZES))
    assert per_graph.tolist() == [int(n / 10) for n in SIZES]
    big = Data(x=torch.zeros(20000, 4),
               edge_index=torch.empty(2, 0, dtype=torch.long))
    noise = AttributeMasking(0.5, generator=0)(big).x
    rows = noise[(noise != 0).any(dim=1)]
    assert rows.size(0) == 10000
    assert abs(rows.mean().item() - 0.5) < 0.02
    assert abs(rows.std().item() - 0.5) < 0.02
    with pytest.raises(ValueError, match='floating-point'):
        AttributeMasking()(Data(x=torch.ones(3, 2, dtype=torch.long),
                                edge_index=torch.empty(2, 0,
                                                       dtype=torch.long)))


def _connected(g: Data) -> bool:
    seen, todo = {0}, [0]
    adj = {}
    for u, v in g.edge_index.t().tolist():
        adj.setdefault(u, []).append(v)
    while todo:
        for v in adj.get(todo.pop(), []):
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return len(seen) == g.num_nodes


def test_subgraph_size_and_connectivity():
    b = batch_of(SIZES)
    out = Subgraph(0.2, generator=0)(b)
    check_valid(out, b)
    for g, orig, n in zip(out.to_data_list(), b.to_data_list(), SIZES):
        assert g.num_nodes == min(n, int(n * 0.2) + 1)
        assert _connected(g)
        kept = set(g.node_id.tolist())
        expected = {e for e in map(tuple, orig.edge_index.t().tolist())
                    if e[0] in kept and e[1] in kept}
        assert original_edges(g, orig) == expected
    # Larger ratios grow through the whole ring (not only the start
    # node's neighbours, the reference's bug).
    out = Subgraph(0.5, generator=1)(b)
    assert [g.num_nodes for g in out.to_data_list()] == [
        min(n, int(n * 0.5) + 1) for n in SIZES]
    assert all(_connected(g) for g in out.to_data_list())


def test_subgraph_stops_at_the_component():
    # Two components: an edge 0-1 and five isolated nodes.
    data = Data(x=torch.randn(7, 2),
                edge_index=torch.tensor([[0, 1], [1, 0]]))
    sizes = {Subgraph(1.0, generator=s)(data).num_nodes for s in range(20)}
    assert sizes == {1, 2}


def test_random_choice_is_per_graph():
    b = batch_of([10] * 40)
    aug = GraphRandomChoice([NodeDropping(1.0, generator=1),
                             EdgePerturbation(1.0, add=False, generator=2)],
                            generator=0)
    gen = aug.generator.get_state()
    choice = aug.choose(40)
    aug.generator.set_state(gen)
    out = aug(b)
    check_valid(out, b)
    for g, c in zip(out.to_data_list(), choice.tolist()):
        if c == 0:  # all but one node dropped
            assert g.num_nodes == 1 and g.num_edges == 0
        else:  # every edge removed, the nodes kept
            assert g.num_nodes == 10 and g.num_edges == 0
    assert 0 < int(choice.sum()) < 40


def test_compose_applies_in_turn():
    b = batch_of(SIZES)
    out = GraphCompose([NodeDropping(0.5, generator=0),
                        Subgraph(0.0, generator=1)])(b)
    check_valid(out, b)
    assert torch.bincount(out.batch).tolist() == [1] * len(SIZES)
    for g, orig in zip(out.to_data_list(), b.to_data_list()):
        assert torch.equal(g.x, orig.x[g.node_id])


def test_names():
    assert get_graph_augmentation('none') is None
    assert isinstance(get_graph_augmentation('dnodes'), NodeDropping)
    assert isinstance(get_graph_augmentation('mask_nodes'), AttributeMasking)
    r3 = get_graph_augmentation('random3', add_edges=False)
    assert [type(a) for a in r3.augmentations] == [
        NodeDropping, EdgePerturbation, Subgraph]
    assert not r3.augmentations[1].add
    with pytest.raises(ValueError, match="Unknown graph augmentation"):
        get_graph_augmentation('random5')


def test_single_graph_and_tensor_calls():
    data = ring(30)
    out = NodeDropping(0.1, generator=0)(data)
    assert out.num_nodes == 27 and out.node_id.numel() == 27
    assert torch.equal(out.x, data.x[out.node_id])
    x, ei, ew = EdgePerturbation(0.1, add=False, generator=0)(
        data.x, data.edge_index, data.edge_id.float())
    assert ei.size(1) == 54 and torch.equal(ei, data.edge_index[:, ew.long()])


def test_degenerate_graphs_are_handled():
    # One node, no edges, and a graph without nodes in the middle.
    b = Batch.from_data_list([ring(1), ring(0), ring(3)])
    for aug in (NodeDropping(0.9, generator=0), Subgraph(0.2, generator=0),
                EdgePerturbation(0.5, add=False, generator=0),
                AttributeMasking(0.9, generator=0)):
        out = aug(b)
        assert torch.bincount(out.batch, minlength=3)[:2].tolist() == [1, 0]
    # A batch without graphs.
    empty = Data(x=torch.empty(0, 3), edge_index=torch.empty(
        2, 0, dtype=torch.long))
    res = NodeDropping(0.5).augment(empty.x, empty.edge_index,
                                    torch.empty(0, dtype=torch.long), 0)
    assert res.x.shape == (0, 3) and res.batch.numel() == 0


def test_bad_input():
    b = batch_of([3, 4])
    cross = b.edge_index.clone()
    cross[1, 0] = 5  # node 0 (graph 0) -> node 5 (graph 1)
    with pytest.raises(ValueError, match='between different graphs'):
        NodeDropping().augment(b.x, cross, b.batch)
    with pytest.raises(ValueError, match="refers to node 8 but the batch "
                       "has 7 nodes"):
        NodeDropping().augment(b.x, b.edge_index + 2, b.batch)
    with pytest.raises(ValueError, match="'batch'"):
        NodeDropping().augment(b.x, b.edge_index, b.batch[:-1])
    with pytest.raises(ValueError, match="'p' must be a probability"):
        NodeDropping(1.5)
    with pytest.raises(ValueError, match="'ratio' must be a probability"):
        Subgraph(-0.1)
    # The node-level composers would see a batch as one graph.
    with pytest.raises(TypeError, match='GraphCompose'):
        Compose([EdgeDrop(0.1), NodeDropping(0.1)])(b)
    with pytest.raises(TypeError, match='graph augmentations'):
        GraphCompose([EdgeDrop(0.1)])
