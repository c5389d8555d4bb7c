r"""Mini-batch Deep Graph Infomax on neighbour-sampled subgraphs, the
large-graph setup of the DGI paper (Reddit, PPI): DGI's
:meth:`~graphcl.models.DeepGraphInfomax.minibatch_objective` run by the
engine's :class:`~graphcl.models.minibatch.MiniBatchTrainer`."""
from .dgi import DeepGraphInfomax
from .minibatch import MiniBatchTrainer

__all__ = ['MiniBatchDGI']


class MiniBatchDGI(MiniBatchTrainer):
    r"""A :class:`~graphcl.models.minibatch.MiniBatchTrainer` for a
    :class:`~graphcl.models.DeepGraphInfomax` (see
    :meth:`~graphcl.models.DeepGraphInfomax.minibatch_objective` for the
    objective).

    Args:
        dgi (DeepGraphInfomax): The model whose parts are trained.
        inference_batch_size (int, optional): Chunk size of :meth:`embed`.
            (default: ``4096``)
    """
    def __init__(self, dgi: DeepGraphInfomax,
                 inference_batch_size: int = 4096):
        if not isinstance(dgi, DeepGraphInfomax):
            raise TypeError(f"MiniBatchDGI wraps a DeepGraphInfomax, got "
                            f"{type(dgi).__name__}")
        super().__init__(dgi, inference_batch_size)

    @property
    def dgi(self) -> DeepGraphInfomax:
        return self.method
