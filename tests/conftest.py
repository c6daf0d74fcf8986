import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def one_torch_thread():
    """Tiny models train on one thread: two threads on two busy cores spin-wait on each other
    (an xdist worker gets its share of the cores from the plugin; this process does not)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
