"""`manage.py api_token` (lives in sellers/: it looks a seller up, and core imports no app)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.models import ApiToken
from tests.sellers.factories import SellerFactory

pytestmark = pytest.mark.django_db


def test_api_token_seller_scope_prints_a_key_that_authenticates_as_the_seller():
    # given
    seller = SellerFactory(slug="atelier")
    out, err = StringIO(), StringIO()

    # when
    call_command("api_token", "crm", "--seller", "atelier", stdout=out, stderr=err)

    # then
    key = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert (token.name, token.seller, token.key_prefix) == ("crm", seller, key[:12])
    assert token.key_hash == ApiToken.hash_key(key)
    assert seller.name in err.getvalue()


def test_api_token_without_seller_is_marketplace_wide():
    # when
    call_command("api_token", "finance-export", stdout=StringIO(), stderr=StringIO())

    # then
    assert ApiToken.objects.get().seller is None


def test_api_token_unknown_seller_is_refused_and_creates_nothing():
    # when / then
    with pytest.raises(CommandError, match="no seller with slug 'nobody'"):
        call_command("api_token", "x", "--seller", "nobody", stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()
