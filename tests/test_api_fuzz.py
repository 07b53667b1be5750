"""Hostile input over the whole API: schemathesis generates requests from /api/schema/ for every
operation, with every token scope, and no answer may be a server error."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from core.services import api_token_create
from tests.returns.factories import requested_return
from tests.sellers.factories import OrderFactory, SellerFactory
from tests.tracking.factories import ShipmentFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

SCOPES = ["anonymous", "seller", "other_seller", "marketplace"]


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Calls go straight to the WSGI app, whose request_finished handler would close the test's
    database connection mid-transaction; Django's test client disconnects it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # uploaded proofs of delivery land here
    seller, other = SellerFactory(), SellerFactory()
    # objects with small ids, so generated ids sometimes hit real rows of each seller
    for owner in (seller, other):
        ShipmentFactory.create_batch(2, order=OrderFactory(seller=owner))
        requested_return(seller=owner)  # the returns API's rows, and their steps
    keys = {"anonymous": None}
    keys["seller"] = api_token_create(name="fuzz", seller=seller)[1]
    keys["other_seller"] = api_token_create(name="fuzz", seller=other)[1]
    keys["marketplace"] = api_token_create(name="fuzz")[1]
    return keys


@pytest.mark.parametrize("scope", SCOPES)
@schema.parametrize()
@settings(
    # CI: 15 per operation and scope; API_FUZZ_EXAMPLES=200 for a deeper hunt.
    max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_never_answers_with_a_server_error(case, scope, tokens):
    key = tokens[scope]
    headers = {"Authorization": f"Token {key}"} if key else {}
    case.call_and_validate(headers=headers, checks=[not_a_server_error])
