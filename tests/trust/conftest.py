import pytest

from trust.routing.graph import forget_all


@pytest.fixture(autouse=True)
def _forget_graphs() -> None:
    """Every test routes on a graph loaded from its own database, never a cached one."""
    forget_all()
