r"""Graph corruptions and augmentations for contrastive self-supervision.

A *corruption* turns a graph into a perturbed view of it: Deep Graph Infomax
(DGI, Veličković et al., 2019) contrasts a graph with a corrupted copy of
itself (:class:`FeatureShuffle`), while GraphCL (You et al., 2020) and GRACE
(Zhu et al., 2020) contrast two randomly augmented views (:class:`EdgeDrop`,
:class:`FeatureMask`, :class:`NodeDrop`, combined with :class:`Compose` or
:class:`RandomChoice`).

Every corruption is a :class:`torch.nn.Module` with two calling conventions:

* ``corruption(data)`` takes a :class:`torch_geometric.data.Data` (or
  :class:`~torch_geometric.data.Batch`) and returns a **new** object of the
  same class. The input is never modified: tensors that a corruption does not
  change are shared with it, changed ones are freshly allocated. Edge-level
  attributes (``edge_attr``, ``edge_weight``, ...) are dropped together with
  their edges; with ``NodeDrop(relabel=True)`` node-level attributes (``y``,
  masks, ``batch``, ...) are subset together with their nodes.
* ``corruption(x, edge_index, edge_weight=None)`` returns
  ``(x, edge_index)``, or ``(x, edge_index, edge_weight)`` when an
  ``edge_weight`` was given. ``edge_weight`` may be any edge-level tensor of
  shape ``[E, *]`` (weights or edge features); it follows the kept edges.

Randomness comes from the ``generator`` argument: ``None`` uses PyTorch's
global RNG (so :func:`torch.manual_seed` makes runs reproducible), an ``int``
seeds a private :class:`torch.Generator` (two corruptions built with the same
seed produce the same sequence of outputs, call by call, independently of any
other random code), and a :class:`torch.Generator` is used as is (and may be
shared between corruptions). Random numbers are drawn on the generator's
device (the CPU unless a CUDA generator is passed) and moved to the data's
device, so CPU generators work with CUDA data.

Corruptions are looked up by name with :func:`get_corruption`, which also
accepts comma-separated lists (``'edge_drop,feature_mask'``) as a
:class:`Compose`.

To write a new corruption, subclass :class:`Corruption` and implement
:meth:`Corruption.corrupt` on tensors; the base class takes care of both
calling conventions, of edge- and node-level attributes and of seeding.
"""
import copy
import inspect
import math
import numbers
from typing import (Any, Dict, List, NamedTuple, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.data.data import BaseData

from .validation import check_prob

__all__ = [
    'Corruption', 'CorruptionResult', 'FeatureShuffle', 'EdgeDrop',
    'FeatureMask', 'NodeDrop', 'FeatureNoise', 'Identity', 'ComposeBase',
    'Compose', 'RandomChoice', 'get_corruption', 'CORRUPTIONS'
]

GeneratorLike = Optional[Union[int, torch.Generator]]


class CorruptionResult(NamedTuple):
    r"""What :meth:`Corruption.corrupt` returns.

    Attributes:
        x (Tensor, optional): Corrupted node features ``[N', F]``.
        edge_index (Tensor, optional): Corrupted edges ``[2, E']``.
        edge_select (Tensor, optional): Which input edges survive, as a boolean
            mask ``[E]`` or an index ``[E']`` into the input edges; edge-level
            attributes are indexed with it. ``None`` if the edges were not
            changed.
        node_select (Tensor, optional): Input node ids of the output nodes
            ``[N']`` when nodes were removed **and relabelled**; node-level
            attributes are indexed with it. ``None`` if node ids are kept.
    """
    x: Optional[Tensor]
    edge_index: Optional[Tensor]
    edge_select: Optional[Tensor] = None
    node_select: Optional[Tensor] = None


def _make_generator(generator: GeneratorLike) -> Optional[torch.Generator]:
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(
            generator, bool):
        return torch.Generator().manual_seed(int(generator))
    raise TypeError(f"'generator' must be None, an int seed or a "
                    f"torch.Generator, got {type(generator).__name__}")


def _compose_select(first: Optional[Tensor],
                    second: Optional[Tensor]) -> Optional[Tensor]:
    r"""Selection equivalent to applying ``first`` and then ``second``."""
    if first is None:
        return second
    if second is None:
        return first
    if first.dtype == torch.bool:
        first = first.nonzero().view(-1)
    return first[second]


def _select(value: Any, sel: Tensor) -> Any:
    r"""Indexes a tensor, array or list along its first dimension."""
    if isinstance(value, Tensor):
        return value[sel.to(value.device)]
    if sel.dtype == torch.bool:
        sel = sel.nonzero().view(-1)
    if isinstance(value, np.ndarray):
        return value[sel.cpu().numpy()]
    out = [value[i] for i in sel.tolist()]
    return tuple(out) if isinstance(value, tuple) else out


class Corruption(torch.nn.Module):
    r"""Base class of all corruptions.

    Subclasses implement :meth:`corrupt`; calling the module dispatches on the
    input (see the module documentation):

    * ``corruption(data)`` returns a new :class:`~torch_geometric.data.Data`
      and leaves ``data`` untouched;
    * ``corruption(x, edge_index, edge_weight=None, num_nodes=None)`` returns
      ``(x, edge_index)``, or ``(x, edge_index, edge_weight)`` if
      ``edge_weight`` is given.

    Args:
        generator (int or torch.Generator, optional): Source of randomness:
            ``None`` for the global RNG, an ``int`` seed for a private
            :class:`torch.Generator`, or a generator used as is.
            (default: ``None``)
    """
    def __init__(self, generator: GeneratorLike = None):
        super().__init__()
        self.generator = _make_generator(generator)

    def manual_seed(self, seed: int) -> 'Corruption':
        r"""(Re)seeds the corruption's private generator (creating one if it
        used the global RNG) and returns ``self``."""
        if self.generator is None:
            self.generator = torch.Generator()
        self.generator.manual_seed(int(seed))
        return self

    # Random draws (on the generator's device, then moved) ----------------
    def _gen_device(self, device: torch.device) -> torch.device:
        return device if self.generator is None else self.generator.device

    def _rand(self, size: Union[int, Sequence[int]],
              device: torch.device) -> Tensor:
        out = torch.rand(size, generator=self.generator,
                         device=self._gen_device(device))
        return out.to(device)

    def _randn(self, size: Sequence[int], device: torch.device,
               dtype: torch.dtype) -> Tensor:
        out = torch.randn(size, generator=self.generator, dtype=dtype,
                          device=self._gen_device(device))
        return out.to(device)

    def _randperm(self, n: int, device: torch.device) -> Tensor:
        out = torch.randperm(n, generator=self.generator,
                             device=self._gen_device(device))
        return out.to(device)

    # Core ----------------------------------------------------------------
    def corrupt(self, x: Optional[Tensor], edge_index: Optional[Tensor],
                num_nodes: int) -> CorruptionResult:
        r"""Corrupts tensors; implemented by subclasses.

        Args:
            x (Tensor, optional): Node features ``[N, F]``.
            edge_index (Tensor, optional): Edges ``[2, E]``.
            num_nodes (int): ``N``.

        Must not modify its inputs in place.
        """
        raise NotImplementedError

    @staticmethod
    def _require_x(x: Optional[Tensor], who: str) -> Tensor:
        if x is None:
            raise ValueError(f"{who} needs node features 'x'")
        return x

    @staticmethod
    def _require_edges(edge_index: Optional[Tensor], who: str) -> Tensor:
        if edge_index is None:
            raise ValueError(f"{who} needs 'edge_index'")
        return edge_index

    # Dispatch ------------------------------------------------------------
    def forward(self, x: Union[BaseData, Tensor, None],
                edge_index: Optional[Tensor] = None,
                edge_weight: Optional[Tensor] = None,
                num_nodes: Optional[int] = None) -> Any:
        if isinstance(x, BaseData):
            if edge_index is not None or edge_weight is not None:
                raise ValueError("Pass either a Data object or tensors "
                                 "(x, edge_index, edge_weight), not both")
            return self._forward_data(x)
        return self._forward_tensors(x, edge_index, edge_weight, num_nodes)

    def _forward_tensors(self, x: Optional[Tensor],
                         edge_index: Optional[Tensor],
                         edge_weight: Optional[Tensor],
                         num_nodes: Optional[int]) -> Tuple:
        if edge_index is not None:
            if edge_index.dim() != 2 or edge_index.size(0) != 2:
                raise ValueError(f"'edge_index' must have shape [2, E], got "
                                 f"{tuple(edge_index.shape)}")
            if (edge_weight is not None
                    and edge_weight.size(0) != edge_index.size(1)):
                raise ValueError(
                    f"'edge_weight' has {edge_weight.size(0)} entries but "
                    f"'edge_index' has {edge_index.size(1)} edges")
        elif edge_weight is not None:
            raise ValueError("'edge_weight' given without 'edge_index'")

        if x is not None:
            num_nodes = x.size(0)
        elif num_nodes is None:
            num_nodes = (int(edge_index.max()) + 1 if edge_index is not None
                         and edge_index.numel() > 0 else 0)

        res = self.corrupt(x, edge_index, num_nodes)
        if edge_weight is None:
            return res.x, res.edge_index
        if res.edge_select is not None:
            edge_weight = edge_weight[res.edge_select.to(edge_weight.device)]
        return res.x, res.edge_index, edge_weight

    def _forward_data(self, data: BaseData) -> BaseData:
        if not isinstance(data, Data):
            raise TypeError(f"{self.__class__.__name__} supports homogeneous "
                            f"graphs (Data/Batch), got "
                            f"{type(data).__name__}")
        x = data.x if 'x' in data else None
        edge_index = data.edge_index if 'edge_index' in data else None
        num_nodes = data.num_nodes
        if num_nodes is None:
            num_nodes = 0

        res = self.corrupt(x, edge_index, num_nodes)

        out = copy.copy(data)  # Shallow: untouched tensors are shared.
        if x is not None:
            out.x = res.x
        if edge_index is not None:
            out.edge_index = res.edge_index

        if res.edge_select is not None or res.node_select is not None:
            for key, value in data.items():
                if key in ('x', 'edge_index', 'ptr'):
                    continue
                if res.edge_select is not None and self._is_level(
                        data, key, value, edge=True):
                    out[key] = _select(value, res.edge_select)
                elif res.node_select is not None and self._is_level(
                        data, key, value, edge=False):
                    out[key] = _select(value, res.node_select)

        if res.node_select is not None:
            new_num_nodes = res.node_select.numel()
            out.num_nodes = new_num_nodes
            if 'batch' in data and 'ptr' in data:
                num_graphs = data.ptr.numel() - 1
                counts = torch.bincount(out.batch, minlength=num_graphs)
                out.ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        elif x is None and data.num_nodes is not None:
            # Keep the node count explicit: it could otherwise be inferred
            # from the (now sparser) edges.
            out.num_nodes = num_nodes
        return out

    @staticmethod
    def _is_level(data: Data, key: str, value: Any, edge: bool) -> bool:
        if isinstance(value, (Tensor, np.ndarray)):
            if value.ndim == 0 or data.__cat_dim__(key, value) != 0:
                return False  # e.g. 'face', '*_index' and other index sets.
        elif not isinstance(value, (list, tuple)):
            return False
        return data.is_edge_attr(key) if edge else data.is_node_attr(key)

    def extra_repr(self) -> str:
        return ''


class FeatureShuffle(Corruption):
    r"""Row-wise shuffling of the node features, the corruption of Deep Graph
    Infomax (`Veličković et al., 2019 <https://arxiv.org/abs/1809.10341>`_).

    .. math::
        \widetilde{\mathbf{X}} = \mathbf{P}\mathbf{X}, \qquad
        \widetilde{\mathcal{E}} = \mathcal{E}

    with :math:`\mathbf{P}` a uniformly random :math:`N \times N` permutation
    matrix: every node keeps its edges but receives another node's features.
    On a :class:`~torch_geometric.data.Batch` rows are permuted across all
    graphs of the batch.

    Args:
        generator (int or torch.Generator, optional): See :class:`Corruption`.

    Shapes:
        **x** ``[N, *]`` :math:`\to` ``[N, *]``; edges unchanged.
    """
    def permutation(self, num_nodes: int,
                    device: Optional[torch.device] = None) -> Tensor:
        r"""Draws the random row permutation ``[num_nodes]`` used by
        :meth:`forward` (``x[perm]``), e.g. to build corrupted features
        directly or to know which node each row came from."""
        device = torch.device('cpu') if device is None else device
        return self._randperm(num_nodes, device)

    def corrupt(self, x, edge_index, num_nodes):
        x = self._require_x(x, 'FeatureShuffle')
        return CorruptionResult(x[self.permutation(x.size(0), x.device)],
                                edge_index)


class EdgeDrop(Corruption):
    r"""Drops each edge independently with probability :math:`p`, as in
    GraphCL (`You et al., 2020 <https://arxiv.org/abs/2010.13902>`_) and GRACE
    (`Zhu et al., 2020 <https://arxiv.org/abs/2006.04131>`_).

    .. math::
        \widetilde{\mathcal{E}} = \{(i, j) \in \mathcal{E} : m_{ij} = 1\},
        \qquad m_{ij} \sim \mathrm{Bernoulli}(1 - p)

    Kept edges keep their order; edge weights and edge attributes follow them.

    Args:
        p (float, optional): Drop probability in :math:`[0, 1]`.
            (default: ``0.2``)
        force_undirected (bool, optional): Decide once per unordered node pair
            :math:`\{i, j\}`, so both directions :math:`(i, j)` and
            :math:`(j, i)` are dropped or kept together and an undirected
            graph stays undirected. Duplicate edges of a pair share the
            decision too. (default: ``False``)
        generator (int or torch.Generator, optional): See :class:`Corruption`.

    Shapes:
        **edge_index** ``[2, E]`` :math:`\to` ``[2, E']``; features unchanged.
    """
    def __init__(self, p: float = 0.2, force_undirected: bool = False,
                 generator: GeneratorLike = None):
        super().__init__(generator)
        self.p = check_prob(p, "'p'")
        self.force_undirected = bool(force_undirected)

    def corrupt(self, x, edge_index, num_nodes):
        edge_index = self._require_edges(edge_index, 'EdgeDrop')
        device = edge_index.device
        if self.force_undirected:
            row, col = edge_index.long()  # int32 keys overflow from 46341
            n = max(num_nodes, int(edge_index.max()) + 1
                    if edge_index.numel() > 0 else 0)
            key = torch.minimum(row, col) * n + torch.maximum(row, col)
            pairs, inverse = torch.unique(key, return_inverse=True)
            keep = (self._rand(pairs.numel(), device) >= self.p)[inverse]
        else:
            keep = self._rand(edge_index.size(1), device) >= self.p
        return CorruptionResult(x, edge_index[:, keep], edge_select=keep)

    def extra_repr(self) -> str:
        s = f'p={self.p}'
        return s + ', force_undirected=True' if self.force_undirected else s


class FeatureMask(Corruption):
    r"""Zeroes whole feature columns, each with probability :math:`p` (the
    same columns for every node), as in GRACE (`Zhu et al., 2020
    <https://arxiv.org/abs/2006.04131>`_).

    .. math::
        \widetilde{\mathbf{X}} = \mathbf{X}\,\mathrm{diag}(\mathbf{m}),
        \qquad m_k \sim \mathrm{Bernoulli}(1 - p)

    Masked entries are set to exactly zero (also where ``x`` holds ``inf`` or
    ``nan``).

    Args:
        p (float, optional): Masking probability in :math:`[0, 1]`.
            (default: ``0.2``)
        generator (int or torch.Generator, optional): See :class:`Corruption`.

    Shapes:
        **x** ``[N, F]`` :math:`\to` ``[N, F]``; edges unchanged.
    """
    def __init__(self, p: float = 0.2, generator: GeneratorLike = None):
        super().__init__(generator)
        self.p = check_prob(p, "'p'")

    def corrupt(self, x, edge_index, num_nodes):
        x = self._require_x(x, 'FeatureMask')
        drop = self._rand(x.size(-1), x.device) < self.p
        return CorruptionResult(x.masked_fill(drop, 0), edge_index)

    def extra_repr(self) -> str:
        return f'p={self.p}'


class NodeDrop(Corruption):
    r"""Drops each node independently with probability :math:`p` together with
    its incident edges, as in GraphCL (`You et al., 2020
    <https://arxiv.org/abs/2010.13902>`_).

    .. math::
        \widetilde{\mathcal{V}} = \{i \in \mathcal{V} : m_i = 1\}, \quad
        \widetilde{\mathcal{E}} = \{(i, j) \in \mathcal{E} :
        i, j \in \widetilde{\mathcal{V}}\}, \quad
        m_i \sim \mathrm{Bernoulli}(1 - p)

    By default node ids are **kept**: dropped nodes stay in the graph as
    isolated nodes with all-zero features, so row :math:`i` of the output
    still belongs to node :math:`i` (the alignment node-level contrast between
    two views needs). With ``relabel=True`` dropped nodes are removed and the
    rest relabelled to :math:`0, \ldots, N'-1` in their original order (as
    :func:`torch_geometric.utils.subgraph`); node-level attributes of a
    :class:`~torch_geometric.data.Data` (``y``, masks, ``batch``, ...) are
    subset accordingly and ``ptr`` is recomputed. The per-graph bookkeeping a
    :class:`~torch_geometric.data.Batch` uses for ``to_data_list()`` is not
    updated.

    Args:
        p (float, optional): Drop probability in :math:`[0, 1]`.
            (default: ``0.2``)
        relabel (bool, optional): Remove and relabel nodes instead of
            isolating and zeroing them. (default: ``False``)
        generator (int or torch.Generator, optional): See :class:`Corruption`.

    Shapes:
        **x** ``[N, F]`` :math:`\to` ``[N, F]`` (``[N', F]`` with
        ``relabel=True``); **edge_index** ``[2, E]`` :math:`\to` ``[2, E']``.
    """
    def __init__(self, p: float = 0.2, relabel: bool = False,
                 generator: GeneratorLike = None):
        super().__init__(generator)
        self.p = check_prob(p, "'p'")
        self.relabel = bool(relabel)

    def corrupt(self, x, edge_index, num_nodes):
        device = x.device if x is not None else (
            edge_index.device if edge_index is not None else
            torch.device('cpu'))
        keep = self._rand(num_nodes, device) >= self.p
        edge_select = None
        if edge_index is not None:
            edge_select = keep[edge_index[0]] & keep[edge_index[1]]
            edge_index = edge_index[:, edge_select]
        if not self.relabel:
            if x is not None:
                x = x.masked_fill(~keep.view(-1, *[1] * (x.dim() - 1)), 0)
            return CorruptionResult(x, edge_index, edge_select)

        subset = keep.nonzero().view(-1)
        if edge_index is not None:  # new ids, in edge_index's own dtype
            mapping = torch.full((num_nodes, ), -1, dtype=edge_index.dtype,
                                 device=device)
            mapping[subset] = torch.arange(subset.numel(), device=device,
                                           dtype=edge_index.dtype)
            edge_index = mapping[edge_index]
        if x is not None:
            x = x[subset]
        return CorruptionResult(x, edge_index, edge_select, subset)

    def extra_repr(self) -> str:
        return f'p={self.p}' + (', relabel=True' if self.relabel else '')


class FeatureNoise(Corruption):
    r"""Adds i.i.d. Gaussian noise to the node features.

    .. math::
        \widetilde{\mathbf{X}} = \mathbf{X} + \sigma\,\boldsymbol{\epsilon},
        \qquad \epsilon_{ik} \sim \mathcal{N}(0, 1)

    Args:
        std (float, optional): :math:`\sigma \geq 0`. (default: ``0.1``)
        generator (int or torch.Generator, optional): See :class:`Corruption`.

    Shapes:
        **x** ``[N, *]`` (floating point) :math:`\to` ``[N, *]``; edges
        unchanged.
    """
    def __init__(self, std: float = 0.1, generator: GeneratorLike = None):
        super().__init__(generator)
        if (isinstance(std, bool) or not isinstance(std, numbers.Real)
                or not math.isfinite(float(std)) or std < 0):
            raise ValueError(f"'std' must be a finite number >= 0, "
                             f"got {std!r}")
        self.std = float(std)

    def corrupt(self, x, edge_index, num_nodes):
        x = self._require_x(x, 'FeatureNoise')
        if not x.is_floating_point():
            raise ValueError(f"FeatureNoise needs floating-point features, "
                             f"got dtype {x.dtype}")
        noise = self._randn(x.shape, x.device, x.dtype)
        return CorruptionResult(x + self.std * noise, edge_index)

    def extra_repr(self) -> str:
        return f'std={self.std}'


class Identity(Corruption):
    r"""Returns the graph unchanged (a no-op choice for
    :class:`RandomChoice`, as GraphCL's identity augmentation)."""
    def corrupt(self, x, edge_index, num_nodes):
        return CorruptionResult(x, edge_index)


class ComposeBase:
    r"""What every ``Compose`` of graphcl shares, mixed into a
    :class:`torch.nn.Module`: parts applied one after the other,
    :math:`f = f_K \circ \dots \circ f_1`. It holds the ordered parts in a
    :class:`~torch.nn.ModuleList` (under the attribute :attr:`parts_name`),
    checks or converts every part with :meth:`check_part` when built, and
    gives the repr ``Compose([f_1, ..., f_K])``. Subclasses apply the parts
    their own way: graph :class:`Compose` composes the corruptions' edge and
    node selections, :class:`graphcl.adapters.Compose` chains batch
    augmentations drawing from one random generator.
    """
    #: Attribute holding the parts (kept per subclass for its users).
    parts_name: str = 'parts'

    def check_part(self, part: Any) -> torch.nn.Module:
        r"""Returns :obj:`part` as a module to hold, or raises a
        :class:`TypeError` saying what is expected."""
        if not isinstance(part, torch.nn.Module):
            raise TypeError(f"{type(self).__name__} expects modules, got "
                            f"{type(part).__name__}")
        return part

    def set_parts(self, parts: Sequence[Any]):
        r"""Checks every part (:meth:`check_part`) and stores them in
        order."""
        if isinstance(parts, (torch.nn.Module, str)) or not hasattr(
                parts, '__iter__'):
            raise TypeError(f"{type(self).__name__} expects a list of "
                            f"parts, got {type(parts).__name__}; wrap a "
                            f"single one in a list")
        setattr(self, self.parts_name,
                torch.nn.ModuleList([self.check_part(p) for p in parts]))

    @property
    def parts(self) -> torch.nn.ModuleList:
        r"""The parts, in the order they are applied."""
        return getattr(self, self.parts_name)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}('
                f'[{", ".join(repr(p) for p in self.parts)}])')


class Compose(ComposeBase, Corruption):
    r"""Applies several corruptions in order, e.g. GRACE's
    ``Compose([EdgeDrop(0.2), FeatureMask(0.3)])``.

    Edge- and node-level attributes follow the combined selection, so the
    result equals applying the corruptions one after the other.

    Args:
        corruptions (list of Corruption): The corruptions, applied in order.
            Each draws from its own ``generator``.
    """
    parts_name = 'corruptions'

    def __init__(self, corruptions: Sequence[Corruption]):
        super().__init__(None)
        self.set_parts(corruptions)

    def check_part(self, part: Any) -> Corruption:
        if not isinstance(part, Corruption):
            raise TypeError(f"Compose expects Corruption modules, got "
                            f"{type(part).__name__}")
        return part

    def corrupt(self, x, edge_index, num_nodes):
        edge_select = node_select = None
        for c in self.corruptions:
            res = c.corrupt(x, edge_index, num_nodes)
            x, edge_index = res.x, res.edge_index
            edge_select = _compose_select(edge_select, res.edge_select)
            node_select = _compose_select(node_select, res.node_select)
            if res.node_select is not None:
                num_nodes = res.node_select.numel()
        return CorruptionResult(x, edge_index, edge_select, node_select)


class RandomChoice(Corruption):
    r"""Applies one corruption picked at random on every call, e.g. GraphCL's
    random augmentation pool.

    Args:
        corruptions (list of Corruption): The candidates.
        weights (list of float, optional): Non-negative relative selection
            weights; uniform if ``None``. (default: ``None``)
        generator (int or torch.Generator, optional): Randomness of the
            *choice* (see :class:`Corruption`); each candidate draws its own
            randomness from its own ``generator``.
    """
    def __init__(self, corruptions: Sequence[Corruption],
                 weights: Optional[Sequence[float]] = None,
                 generator: GeneratorLike = None):
        super().__init__(generator)
        corruptions = list(corruptions)
        if len(corruptions) == 0:
            raise ValueError("RandomChoice needs at least one corruption")
        for c in corruptions:
            if not isinstance(c, Corruption):
                raise TypeError(f"RandomChoice expects Corruption modules, "
                                f"got {type(c).__name__}")
        self.corruptions = torch.nn.ModuleList(corruptions)
        self.weights: Optional[List[float]] = None
        if weights is not None:
            weights = [float(w) for w in weights]
            if (len(weights) != len(corruptions)
                    or any(not math.isfinite(w) or w < 0 for w in weights)
                    or sum(weights) <= 0):
                raise ValueError(f"'weights' must hold {len(corruptions)} "
                                 f"finite non-negative numbers with a "
                                 f"positive sum, got {weights}")
            self.weights = weights

    def choose(self) -> int:
        r"""Draws the index of the corruption to apply."""
        device = self._gen_device(torch.device('cpu'))
        if self.weights is None:
            return int(torch.randint(len(self.corruptions), (1, ),
                                     generator=self.generator,
                                     device=device))
        w = torch.tensor(self.weights, device=device)
        return int(torch.multinomial(w, 1, generator=self.generator))

    def corrupt(self, x, edge_index, num_nodes):
        return self.corruptions[self.choose()].corrupt(x, edge_index,
                                                       num_nodes)

    def __repr__(self) -> str:
        s = ', '.join(repr(c) for c in self.corruptions)
        w = '' if self.weights is None else f', weights={self.weights}'
        return f'{self.__class__.__name__}([{s}]{w})'


CORRUPTIONS: Dict[str, type] = {
    'feature_shuffle': FeatureShuffle,
    'edge_drop': EdgeDrop,
    'feature_mask': FeatureMask,
    'node_drop': NodeDrop,
    'feature_noise': FeatureNoise,
    'identity': Identity,
}
_ALIASES: Dict[str, str] = {
    'shuffle': 'feature_shuffle',
    'drop_edge': 'edge_drop',
    'mask_feature': 'feature_mask',
    'drop_node': 'node_drop',
    'noise': 'feature_noise',
    'none': 'identity',
}


def _norm(name: str) -> str:
    return ''.join(ch for ch in name.lower() if ch not in '_- ')


_LOOKUP: Dict[str, type] = {
    **{_norm(k): v
       for k, v in CORRUPTIONS.items()},
    **{_norm(k): CORRUPTIONS[v]
       for k, v in _ALIASES.items()},
}


def _accepts(cls: type, kwarg: str) -> bool:
    return kwarg in inspect.signature(cls.__init__).parameters


def get_corruption(name: Union[str, Corruption], **kwargs) -> Corruption:
    r"""Builds a corruption by name.

    Names (case, ``_`` and ``-`` are ignored): ``'feature_shuffle'``
    (``'shuffle'``), ``'edge_drop'`` (``'drop_edge'``), ``'feature_mask'``
    (``'mask_feature'``), ``'node_drop'`` (``'drop_node'``),
    ``'feature_noise'`` (``'noise'``), ``'identity'`` (``'none'``).

    A comma-separated list such as ``'edge_drop,feature_mask'`` gives a
    :class:`Compose` in that order. Each keyword argument goes to every
    listed corruption that accepts it (``p=0.2`` sets the probability of both
    above; build :class:`Compose` directly for different values); an ``int``
    ``generator`` seeds one generator shared by all of them. A
    :class:`Corruption` instance is returned as is.

    Raises:
        ValueError: For an unknown name (the message lists the known ones), or
            a keyword argument that no listed corruption accepts.
    """
    if isinstance(name, Corruption):
        if kwargs:
            raise ValueError("Keyword arguments cannot be applied to an "
                             "already-built corruption")
        return name
    if not isinstance(name, str):
        raise TypeError(f"Corruption name must be a string, got "
                        f"{type(name).__name__}")
    parts = [part.strip() for part in name.split(',')]
    classes = []
    for part in parts:
        cls = _LOOKUP.get(_norm(part)) if part else None
        if cls is None:
            raise ValueError(
                f"Unknown corruption '{part}' in '{name}'; known names: "
                f"{', '.join(CORRUPTIONS)} (aliases: "
                f"{', '.join(f'{a}={c}' for a, c in _ALIASES.items())}), or "
                f"a comma-separated list of them")
        classes.append(cls)

    unused = [k for k in kwargs if not any(_accepts(c, k) for c in classes)]
    if unused:
        raise ValueError(f"Corruption '{name}' does not accept argument(s) "
                         f"{unused}")
    if len(classes) > 1 and 'generator' in kwargs:
        kwargs = dict(kwargs, generator=_make_generator(kwargs['generator']))
    built = [c(**{k: v
                  for k, v in kwargs.items() if _accepts(c, k)})
             for c in classes]
    return built[0] if len(built) == 1 else Compose(built)
