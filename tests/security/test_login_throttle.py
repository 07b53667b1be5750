"""Issue 14, item 5: logins are throttled per account and per address (django-axes).

Before: 40 wrong passwords, then the right one, logged in, on the seller portal and the admin
(the CS and finance consoles send staff to the admin's login). Now the fifth failure, and every
attempt after it until the cool-off ends, is a 429 saying why, even with the right password."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from tests.sellers.factories import SellerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.sellers.factories.UserFactory's
LOCKED = "Too many login attempts"
LOGIN_FORMS = ["/seller/login/", "/admin/login/"]
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pinned_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _user(path: str):
    return SellerMemberFactory().user if path.startswith("/seller/") else UserFactory(is_staff=True)


def _login(client, path: str, username: str, password: str, address: str = "203.0.113.5"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("path", LOGIN_FORMS)
def test_login_throttle_forty_wrong_passwords_then_the_right_one_is_refused(client, path):
    user = _user(path)

    codes = [_login(client, path, user.username, f"wrong-{n}").status_code for n in range(40)]
    right = _login(client, path, user.username, PASSWORD)

    # the form again with its error four times; the fifth failure locks (LOGIN_FAILURE_LIMIT)
    assert codes[:4] == [200] * 4
    assert set(codes[4:]) == {429}
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert not _logged_in(client)


@pytest.mark.parametrize("path", LOGIN_FORMS)
def test_login_throttle_per_account_whatever_the_address(client, path):
    user = _user(path)

    for n in range(5):
        _login(client, path, user.username, "wrong", address=f"198.51.100.{n}")
    right = _login(client, path, user.username, PASSWORD, address="192.0.2.77")

    assert right.status_code == 429
    assert not _logged_in(client)


@pytest.mark.parametrize("path", LOGIN_FORMS)
def test_login_throttle_per_address_whatever_the_account(client, path):
    # given one address that tried five accounts
    for n in range(5):
        _login(client, path, f"guess{n}", "wrong", address="203.0.113.9")
    user = _user(path)

    # then a sixth account is refused from that address, even with its password...
    from_there = _login(client, path, user.username, PASSWORD, address="203.0.113.9")
    assert from_there.status_code == 429
    assert not _logged_in(client)

    # ...and logs in from another address
    elsewhere = _login(client, path, user.username, PASSWORD, address="192.0.2.10")
    assert elsewhere.status_code == 302
    assert _logged_in(client)


def test_login_throttle_lifts_after_the_cool_off(client, pinned_clock):
    user = _user("/seller/login/")
    for _ in range(5):
        _login(client, "/seller/login/", user.username, "wrong")
    assert _login(client, "/seller/login/", user.username, PASSWORD).status_code == 429

    pinned_clock.shift(timedelta(minutes=16))
    response = _login(client, "/seller/login/", user.username, PASSWORD)

    assert response.status_code == 302
    assert _logged_in(client)


def test_login_throttle_the_admin_path_is_a_setting():
    root = Path(__file__).resolve().parents[2]
    code = "from django.urls import reverse; print(reverse('admin:login'))"
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "shell", "-c", code], cwd=root, capture_output=True,
        text=True, env={**os.environ, "ADMIN_URL": "back-office-7f3"}, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "/back-office-7f3/login/"
