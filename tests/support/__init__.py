"""The one test toolkit: what more than one test module needs, defined once.

- ``clock``: ``ManualClock`` (a clock the test moves by hand) and the stated instants tests pin.
- ``sandbox``: the ``sandbox`` fixture (the sandbox courier on a free port, every adapter pointed
  at it) and the numbers and durations of its journeys.
- ``http``: ``carrier_http_client()`` and the ``carrier_client`` fixture (no waits, no rate limit).
- ``mail``: the ``smtp_server`` fixture (aiosmtpd collecting what Django sends).
- ``webhooks``: the ``webhook_receiver`` fixture (a seller's receiver checking our signature).
- ``ingest``: courier events through ``events_ingest``, the way production changes statuses.
- ``browser``: viewports and screenshots of the browser tests.

Fixtures reach every test through ``pytest_plugins`` in ``tests/conftest.py``; helpers are plain
imports (``from tests.support.sandbox import STEP``). Test modules import from here and from the
``factories`` modules, never from one another.
"""
