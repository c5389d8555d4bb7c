r"""The interface every graph self-supervised method implements, so that one
engine (:func:`graphcl.train.pretrain`, :func:`graphcl.run_experiment`,
mini-batch and ``torchrun`` training) serves them all without knowing any
method by name."""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Module

from ..validation import check_node_data
from .stamp import TensorStamp

__all__ = ['GraphMethod', 'encoder_inputs']


def encoder_inputs(data) -> tuple:
    r"""The encoder's arguments taken from a PyG
    :class:`~torch_geometric.data.Data`: ``(x, edge_index)``, plus
    ``edge_weight`` when the data has one."""
    if getattr(data, 'edge_weight', None) is not None:
        return data.x, data.edge_index, data.edge_weight
    return data.x, data.edge_index


def _reset(module: Optional[Module]):
    # reset_parameters() of a module, or of its children when it has none.
    if module is None:
        return
    if hasattr(module, 'reset_parameters'):
        module.reset_parameters()
        return
    if isinstance(module, Module):
        for child in module.children():
            _reset(child)


class GraphMethod(Module):
    r"""Base class of graph self-supervised methods.

    A method builds its parts in ``__init__`` and defines one training
    step's loss; the engine owns the loop, seeds, early stopping, metrics,
    mini-batching and distributed training:

    * :meth:`objective` ``(data) -> loss``: the loss of one full-batch step
      on a PyG :class:`~torch_geometric.data.Data`.
    * :meth:`minibatch_objective` ``(batch) -> loss``: the loss on a
      neighbour-sampled subgraph whose first ``batch.batch_size`` rows are
      the seed nodes (only when :attr:`supports_minibatch`).
    * :meth:`embed` ``(data) -> Z``: frozen node embeddings :math:`(N, D)`
      (by default the :attr:`encoder` in eval mode).
    * :meth:`on_step`: called by the engine after every optimiser step
      (e.g. BGRL's moving-average target); a no-op by default.
    * :meth:`begin_training`: called by the engine before training with
      the optimiser and the run's length (schedules); a no-op by default.
    * :attr:`encoder`: the module that is kept and saved after
      pretraining.
    * :meth:`check_input`: validates a graph before the encoder sees it
      (dtype, shape, index range, finite features), once per distinct
      input; :meth:`objective` and :meth:`embed` call it.

    Register a method by name with
    :func:`graphcl.models.register_method` to make it available to
    ``graphcl train`` and :func:`graphcl.run_experiment`.
    """
    #: The module kept after pretraining (its ``state_dict`` is saved).
    encoder: Module
    #: Whether :meth:`minibatch_objective` is defined.
    supports_minibatch: bool = False
    #: The fewest seed nodes :meth:`minibatch_objective` is defined on (2
    #: for a loss that compares each seed with the others or standardises
    #: over them); the engine skips smaller mini-batches, such as the short
    #: last one of an epoch, and counts them (``skipped_batches``).
    min_batch_size: int = 1

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        for child in self.children():
            _reset(child)

    def objective(self, data) -> Tensor:
        r"""The training loss of one full-batch step on :obj:`data`."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define objective(data)")

    def minibatch_objective(self, batch) -> Tensor:
        r"""The training loss on a neighbour-sampled subgraph
        :obj:`batch` (seed nodes first, ``batch.batch_size`` of them)."""
        raise ValueError(
            f"{type(self).__name__} cannot be trained on sampled "
            f"mini-batches; drop --batch-size to train full batch")

    def on_step(self) -> None:
        r"""Called after every optimiser step (no-op by default)."""

    def configure_optimizer(self, lr: float, weight_decay: float = 0.0
                            ) -> torch.optim.Optimizer:
        r"""The optimiser the engine trains this method with, given the
        run's learning rate and weight decay: the standard Adam
        (:func:`graphcl.perf.make_adam`, weight decay as an L2 term) by
        default. Methods whose reference code uses another optimiser
        (BGRL: AdamW) override it."""
        from ..perf import make_adam
        return make_adam(self.parameters(), lr=lr, weight_decay=weight_decay)

    def begin_training(self, optimizer: torch.optim.Optimizer, epochs: int,
                       steps_per_epoch: int = 1) -> None:
        r"""Called by the engine before a seed's training starts (or
        resumes) with its optimiser and length: at most :obj:`epochs`
        epochs of :obj:`steps_per_epoch` optimiser steps (``1`` full
        batch). Methods with schedules over the run (BGRL's target
        momentum and learning rate) set them here; a no-op by default."""

    @property
    def _input_stamp(self) -> TensorStamp:
        stamp = self.__dict__.get('_input_stamp_')
        if stamp is None:  # (copies and pickles start with a fresh one)
            stamp = self.__dict__['_input_stamp_'] = TensorStamp()
        return stamp

    def check_input(self, x: Tensor, edge_index: Tensor, data=None,
                    edge_weight: Optional[Tensor] = None) -> None:
        r"""Raises a :class:`ValueError` saying what is wrong with the
        graph (:func:`graphcl.validation.check_node_data`: a graph without
        nodes, features that are not a finite float matrix, edge indices
        out of range, edge weights that are not one finite weight
        :math:`\geq 0` per edge, ...). Checked once per input,
        :math:`O(NF + E)`; later calls with the very same tensors, unchanged
        in place, compare a :class:`~graphcl.models.stamp.TensorStamp` and
        check nothing. The edge weights are :obj:`edge_weight`, else
        ``data.edge_weight``."""
        num_nodes = data.num_nodes if data is not None else x.size(0)
        if edge_weight is None and data is not None:
            edge_weight = data.get('edge_weight')
        tensors = (x, edge_index, edge_weight)
        stamp = self._input_stamp
        if stamp.matches(tensors, num_nodes):
            return
        if data is None or edge_weight is not data.get('edge_weight'):
            from torch_geometric.data import Data
            given = {} if data is None else {'num_nodes': num_nodes}
            data = Data(x=x, edge_index=edge_index, edge_weight=edge_weight,
                        **given)
        stamp.clear()
        check_node_data(data)
        stamp.set(tensors, num_nodes)

    def forget_inputs(self):
        r"""Forgets the inputs seen so far: which were checked, and every
        cache the method keeps for them (fast-path graph constants, CSR
        feature rows, diffusions), so that the next call rebuilds them.
        Needed only after writing into input tensors behind PyTorch's back
        (through ``.data``, ``.numpy()`` or DLPack), which the version
        counters that the caches check do not see.

        Every such cache is keyed by a
        :class:`~graphcl.models.stamp.TensorStamp`, held by the method
        itself or as the ``stamp`` of a cache object it holds: all of them
        are cleared, so a method added later is covered as well."""
        for value in list(vars(self).values()):
            stamp = value if isinstance(value, TensorStamp) else \
                getattr(value, 'stamp', None)
            if isinstance(stamp, TensorStamp):
                stamp.clear()
        self._input_stamp.clear()

    def clear_cache(self):
        r"""The same as :meth:`forget_inputs`."""
        self.forget_inputs()

    @torch.no_grad()
    def embed(self, data) -> Tensor:
        r"""Frozen node embeddings :math:`(N, D)` of a PyG
        :class:`~torch_geometric.data.Data` (the :attr:`encoder` in eval
        mode)."""
        self.check_input(data.x, data.edge_index, data)
        was_training = self.training
        self.eval()
        try:
            return self.encode(encoder_inputs(data))
        finally:
            self.train(was_training)

    def encode(self, inputs: tuple) -> Tensor:
        r"""The frozen encoder on ``(x, edge_index[, edge_weight])``
        (:meth:`embed` calls it in eval mode, without gradients): by
        default ``self.encoder(*inputs)``; a method may compute the same
        function another way (GRACE and BGRL:
        :class:`~graphcl.models.gcn_views.GCNViewsEmbed`)."""
        return self.encoder(*inputs)
