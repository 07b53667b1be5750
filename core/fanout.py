"""How an app reacts to a change another app made: the one mechanism (README, "How apps react
to a change").

    service, inside its transaction -> <app>.signals.<fact>.send(...)
      -> each receiver, still inside that transaction, does one or both of:
         - write its own rows: they commit or roll back with the change;
         - job_on_commit("<app>.tasks.<job>", ids): a django-q2 job queued once the change
           commits (never run inline in the sender's worker, whose locks it would extend);
      -> every such job has a sweeping schedule that finds, from committed rows, the work of a
         job lost between the commit and the queue (a crash, a broker outage).

A rolled-back change therefore writes nothing and queues nothing; a committed one is acted on
by its job, or else by the sweep. Jobs are idempotent: the job and the sweep may both run.
"""

from __future__ import annotations

from django.db import transaction


def job_on_commit(func: str, *args, group: str) -> None:
    """Queue the django-q2 job ``func(*args)`` once the current transaction commits; nothing
    if it rolls back. Receivers of the in-transaction signals call it (they always run inside
    the sender's transaction)."""

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task(func, *args, group=group)

    transaction.on_commit(enqueue)
