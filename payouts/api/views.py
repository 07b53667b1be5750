"""Payouts API for the marketplace's payment system: one view per operation.

Writes need a marketplace-scoped token (the payment system); a seller token may read its own
payouts. Reads go through selectors, writes through services.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Scope
from core.api import permissions as perms
from core.api.pagination import BoundedLimitOffsetPagination
from core.api.permissions import Operation
from payouts import selectors, services
from payouts.api.serializers import (
    CancelInput,
    ClaimCloseInput,
    ClaimOpenInput,
    PayoutOpenInput,
    PayoutOutput,
)
from sellers import selectors as seller_selectors

# Money moves on the word of the marketplace's payment system only: its token.
PAYMENT_SYSTEM = Operation(marketplace=True)
# Reading payouts: a seller its own, the payment system, finance staff (payouts.view_payout).
READ_PAYOUTS = Operation(seller=True, marketplace=True, staff_perms=perms.VIEW_PAYOUTS)


def _payout_for_order(request, order_id: int):
    return selectors.payout_get_for_order(scope=Scope.from_request(request), order_id=order_id)


def _output(request, payout, code=status.HTTP_200_OK) -> Response:
    payout = selectors.payout_get(scope=Scope.from_request(request), payout_id=payout.pk)
    return Response(PayoutOutput(payout).data, status=code)


class PayoutListOpenApi(APIView):
    operations = {"GET": READ_PAYOUTS, "POST": PAYMENT_SYSTEM}

    @extend_schema(responses=PayoutOutput(many=True), operation_id="payouts_list")
    def get(self, request):
        payouts = selectors.payout_list(scope=Scope.from_request(request))
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(payouts, request, view=self)
        return paginator.get_paginated_response(PayoutOutput(page, many=True).data)

    @extend_schema(
        request=PayoutOpenInput,
        responses={201: PayoutOutput, 200: PayoutOutput},
        operation_id="payouts_open",
        description="Payment received for an order: open its payout, held in escrow. "
        "Idempotent per order (200 with the existing payout).",
    )
    def post(self, request):
        payload = PayoutOpenInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        order = seller_selectors.order_get(
            scope=Scope.from_request(request), order_id=data["order"]
        )
        payout, created = services.payout_open_for_order(
            order=order,
            actor=request.user,
            payment_reference=data["payment_reference"],
            amount=data.get("amount"),
            currency=data.get("currency"),
        )
        return _output(request, payout, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class PayoutForOrderApi(APIView):
    operations = {"GET": READ_PAYOUTS}

    @extend_schema(responses=PayoutOutput, operation_id="payouts_for_order")
    def get(self, request, order_id: int):
        return Response(PayoutOutput(_payout_for_order(request, order_id)).data)


class ReceiptConfirmApi(APIView):
    operations = {"POST": PAYMENT_SYSTEM}

    @extend_schema(request=None, responses=PayoutOutput, operation_id="payouts_receipt_confirm")
    def post(self, request, order_id: int):
        payout = services.payout_receipt_confirm(
            payout=_payout_for_order(request, order_id), actor=request.user
        )
        return _output(request, payout)


class ClaimOpenApi(APIView):
    operations = {"POST": PAYMENT_SYSTEM}

    @extend_schema(
        request=ClaimOpenInput, responses=PayoutOutput, operation_id="payouts_claim_open"
    )
    def post(self, request, order_id: int):
        payload = ClaimOpenInput(data=request.data)
        payload.is_valid(raise_exception=True)
        payout = services.payout_claim_open(
            payout=_payout_for_order(request, order_id),
            kind=payload.validated_data["kind"],
            reference=payload.validated_data["reference"],
            reason=payload.validated_data["reason"],
            reason_code=payload.validated_data["reason_code"],
            actor=request.user,
        )
        return _output(request, payout)


class ClaimCloseApi(APIView):
    operations = {"POST": PAYMENT_SYSTEM}

    @extend_schema(
        request=ClaimCloseInput, responses=PayoutOutput, operation_id="payouts_claim_close"
    )
    def post(self, request, order_id: int):
        payload = ClaimCloseInput(data=request.data)
        payload.is_valid(raise_exception=True)
        payout = services.payout_claim_close(
            payout=_payout_for_order(request, order_id),
            reference=payload.validated_data["reference"],
            resolution=payload.validated_data["resolution"],
            actor=request.user,
        )
        return _output(request, payout)


class PayoutCancelApi(APIView):
    operations = {"POST": PAYMENT_SYSTEM}

    @extend_schema(request=CancelInput, responses=PayoutOutput, operation_id="payouts_cancel")
    def post(self, request, order_id: int):
        payload = CancelInput(data=request.data)
        payload.is_valid(raise_exception=True)
        payout = services.payout_cancel(
            payout=_payout_for_order(request, order_id),
            reason=payload.validated_data["reason"],
            actor=request.user,
        )
        return _output(request, payout)
