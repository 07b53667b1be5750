"""Twenty finance agents (or job workers) release the same payout at the same instant."""

import threading

import pytest
from django.db import connection, connections

from payouts import services
from payouts.models import JournalEntry, JournalLine, Payout, PayoutEvent
from payouts.services import release
from tests.payouts.factories import OrderFactory, finance_user, proven_parcel
from tests.support.concurrency import ContendedSection

ATTEMPTS = 20


@pytest.mark.django_db(transaction=True)
def test_payout_release_twenty_concurrent_attempts_release_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks: SQLite serialises whole-database writes")
    # given an eligible payout
    order = OrderFactory(total_amount=12345)
    proven_parcel(order)
    payout, _ = services.payout_open_for_order(order=order, actor=None)
    user = finance_user()
    assert payout.status == "eligible"
    barrier = threading.Barrier(ATTEMPTS)
    outcomes, errors = [], []
    # The release decides inside the payout's row lock: the first attempt to decide is held there
    # until another one comes in (or a second passes), so without the lock they all decide that
    # the payout is eligible and release it
    deciding = ContendedSection()
    real_decide = release.decide

    def held_decide(*args, **kwargs):
        deciding.enter()
        return real_decide(*args, **kwargs)

    monkeypatch.setattr(release, "decide", held_decide)

    def attempt(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            # half of them as finance, half as the auto-release job
            actor = user if index % 2 else None
            outcomes.append(services.payout_release(payout=payout.pk, actor=actor).status)
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            errors.append(repr(exc))
        finally:
            connections.close_all()  # each thread had its own connection: give it back

    # when twenty threads, each on its own database connection, release it at once
    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then every attempt saw it released, and there is exactly one release and one set of lines
    assert errors == []
    assert deciding.entries == 1
    assert outcomes == ["released"] * ATTEMPTS
    assert Payout.objects.get(pk=payout.pk).status == "released"
    assert JournalEntry.objects.filter(payout=payout, kind="release").count() == 1
    assert JournalLine.objects.filter(entry__payout=payout, entry__kind="release").count() == 3
    assert PayoutEvent.objects.filter(payout=payout, action="released").count() == 1
    assert services.ledger_check().released == 1


@pytest.mark.django_db(transaction=True)
def test_ledger_database_refuses_updates_and_deletes():
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite relies on the model guard")
    from django.db import DatabaseError, transaction

    order = OrderFactory()
    payout, _ = services.payout_open_for_order(order=order, actor=None)
    for sql in (
        "UPDATE payouts_journalline SET amount = amount + 1",
        "DELETE FROM payouts_journalentry",
        "UPDATE payouts_payoutevent SET reason = 'rewritten'",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert services.ledger_check().payouts == 1
