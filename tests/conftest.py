"""Shared test setup: every test starts from the same seed and with gradients enabled."""

import numpy as np
import pytest

import aprende


@pytest.fixture(autouse=True)
def _seeded():
    aprende.manual_seed(0)
    np.random.seed(0)
    with aprende.set_grad_enabled(True):
        yield
