from rest_framework import serializers

from payouts.models import Payout


class PayoutOpenInput(serializers.Serializer):
    order = serializers.IntegerField(help_text="The order's id in Parcelle.")
    payment_reference = serializers.CharField(max_length=100, required=False, default="")
    amount = serializers.IntegerField(
        required=False, min_value=0, help_text="Minor units; must equal the order total."
    )
    currency = serializers.CharField(max_length=3, required=False)


class ClaimOpenInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["claim", "dispute"], default="claim")
    reference = serializers.CharField(max_length=100)
    reason = serializers.CharField(max_length=1000, required=False, default="")
    reason_code = serializers.ChoiceField(
        choices=["not_received", "other"], required=False, default="other",
        help_text=("not_received: the buyer says the parcel never came. On an order the "
                   "delivery performance protection covers, delivered with the courier's POD, "
                   "it goes to the courier-claim queue and does not hold the payout."),
    )  # fmt: skip


class ClaimCloseInput(serializers.Serializer):
    reference = serializers.CharField(max_length=100)
    resolution = serializers.CharField(max_length=1000, required=False, default="")


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, default="order cancelled")


class PayoutOutput(serializers.ModelSerializer):
    order_reference = serializers.CharField(source="order.reference")

    class Meta:
        model = Payout
        fields = [
            "id",
            "order",
            "order_reference",
            "seller",
            "status",
            "hold_reason",
            "currency",
            "gross_amount",
            "commission_rate",
            "commission_amount",
            "net_amount",
            "returned_amount",
            "pod_complete",
            "last_delivered_at",
            "buyer_confirmed_at",
            "release_due_at",
            "claim_kind",
            "claim_reference",
            "paid_at",
            "released_at",
            "released_with_override",
            "closed_at",
        ]
        read_only_fields = fields
