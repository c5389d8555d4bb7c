import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """These small models train several times faster on one thread (measured
    on 2 cores); restore the setting so other test folders are unaffected."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
