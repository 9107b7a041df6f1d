"""Shared fixtures for probe tests."""

from __future__ import annotations

import pytest

from probes.runner import forget_connectivity


@pytest.fixture
def loopback_allowed(settings):
    """These tests probe servers on 127.0.0.1, which the guard refuses by default."""
    settings.PROBES_ALLOW_PRIVATE = True
    forget_connectivity()
    yield
    forget_connectivity()
