import pytest

from tests.returns.factories import marketplace_default


@pytest.fixture(autouse=True)
def _marketplace_default_policy(db):
    marketplace_default()
