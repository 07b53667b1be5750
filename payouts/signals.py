"""Signals of the payouts app, sent on commit by its services.

payout_released(sender=Payout, payout_id, order_id, seller_id, net_amount, currency, released_at)
    The seller's money left escrow. The notifications app turns it into a signed
    `payout.released` webhook.
"""

from django.dispatch import Signal

payout_released = Signal()
