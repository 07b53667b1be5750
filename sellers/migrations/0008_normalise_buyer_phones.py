"""Buyers' phone numbers already stored, to E.164 in their destination's numbering plan.

What cannot be read (a typo, a number no plan has) is left as it was, and listed: the SMS
sender skips it with the reason in the delivery log, and an agent can fix it in the admin,
which applies the same rule as the order API.
"""

import sys

from django.db import migrations

BATCH = 1000  # one UPDATE round-trip per thousand changed orders


def normalise_buyer_phones(apps, schema_editor):
    from core.phones import InvalidPhoneNumber, to_e164

    Order = apps.get_model("sellers", "Order")
    changed, left = [], []
    rows = (
        Order.objects.exclude(buyer_phone="")
        .only("id", "reference", "buyer_phone", "destination_country", "destination_postcode")
        .order_by("id")
    )
    for order in rows.iterator(chunk_size=BATCH):
        try:
            number = to_e164(
                order.buyer_phone,
                country=order.destination_country,
                postcode=order.destination_postcode,
            )
        except InvalidPhoneNumber as exc:
            left.append((order.id, order.reference, str(exc)))
            continue
        if number != order.buyer_phone:
            order.buyer_phone = number
            changed.append(order)
        if len(changed) >= BATCH:
            Order.objects.bulk_update(changed, ["buyer_phone"])
            changed.clear()
    Order.objects.bulk_update(changed, ["buyer_phone"])
    if left:
        sys.stdout.write(
            f"\n  {len(left)} buyer phone number(s) could not be read and were left as stored "
            "(no SMS goes to them; fix them in the order admin):\n"
        )
        for order_id, reference, reason in left[:50]:
            sys.stdout.write(f"    order {order_id} ({reference}): {reason}\n")
        if len(left) > 50:
            sys.stdout.write(f"    … and {len(left) - 50} more\n")


class Migration(migrations.Migration):
    dependencies = [("sellers", "0007_tracking_upload_lease")]

    operations = [
        migrations.RunPython(normalise_buyer_phones, migrations.RunPython.noop, elidable=True)
    ]
