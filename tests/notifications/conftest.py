"""What every notification test starts from: SMS to memory and the default rules. The SMTP
server and the webhook receiver are the toolkit's (tests/support/mail.py, webhooks.py)."""

from __future__ import annotations

import pytest

from notifications.sms import LocmemSmsBackend


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Every test sends SMS to memory unless it picks another backend."""
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()


@pytest.fixture(autouse=True)
def default_rules(request):
    """The migration's default rules in every database test (a transactional test before this
    one flushed the rows the migration had created)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        from importlib import import_module

        from django.apps import apps

        transactional = marker.kwargs.get("transaction", False)
        request.getfixturevalue("transactional_db" if transactional else "db")
        import_module("notifications.migrations.0002_default_rules").create_defaults(apps, None)
