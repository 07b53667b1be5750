"""The CRM API: the CS console's data for the marketplace's CRM, beside a ticket.

Marketplace-scoped tokens and CS agents' sessions (tracking.use_cs_console) only; a seller
token or any other staff account gets 403: search, a shipment's whole story,
its notes (read and add) and the exception queues. Reads through cs.selectors, writes
through tracking.services.cs, like the console.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Scope
from core.api import permissions as perms
from core.api.idempotency import idempotent
from core.api.pagination import BoundedLimitOffsetPagination
from core.api.permissions import Operation
from core.converters import MAX_DB_ID
from core.models import ApiToken
from cs import selectors
from sellers.api.serializers import OrderProtectionFields
from tracking import selectors as tracking_selectors
from tracking.api.serializers import ShipmentDetailOutput, ShipmentOutput
from tracking.models import (
    DeliveryEstimate,
    ExceptionKind,
    ShipmentException,
    ShipmentNote,
    StatusChoices,
)
from tracking.services import cs as services

# Customer data of every seller: the marketplace's CRM (its token) and CS agents, never a
# seller.
CS_OPERATION = Operation(marketplace=True, staff_perms=perms.USE_CS_CONSOLE)


class CsApiView(APIView):
    operations = {"GET": CS_OPERATION, "POST": CS_OPERATION}


class SearchInput(serializers.Serializer):
    q = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True,
        help_text="A tracking number (any spacing/case), order reference, buyer email, phone or "
        "name, or seller name.",
    )  # fmt: skip
    status = serializers.ChoiceField(choices=StatusChoices.choices, required=False)
    carrier = serializers.CharField(max_length=40, required=False)
    seller = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False)
    exception = serializers.ChoiceField(choices=ExceptionKind.choices, required=False)
    created_from = serializers.DateField(required=False)
    created_to = serializers.DateField(required=False)


class ExceptionOutput(serializers.ModelSerializer):
    shipment = serializers.IntegerField(source="shipment_id")
    assigned_to = serializers.SerializerMethodField()
    resolved_by = serializers.SerializerMethodField()

    class Meta:
        model = ShipmentException
        fields = ["id", "shipment", "kind", "detail", "opened_at", "assigned_to", "assigned_at",
                  "resolved_at", "resolved_by", "resolution", "resolution_note"]  # fmt: skip

    def get_assigned_to(self, exception) -> str | None:
        return exception.assigned_to.get_username() if exception.assigned_to_id else None

    def get_resolved_by(self, exception) -> str | None:
        return exception.resolved_by.get_username() if exception.resolved_by_id else None


class OpenExceptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    opened_at = serializers.DateTimeField()


class BuyerOutput(serializers.Serializer):
    name = serializers.CharField(source="buyer_name")
    email = serializers.CharField(source="buyer_email")
    phone = serializers.CharField(source="buyer_phone")
    postcode = serializers.CharField(source="destination_postcode")
    country = serializers.CharField(source="destination_country")


class SearchResultOutput(ShipmentOutput):
    exact_match = serializers.SerializerMethodField()
    seller_name = serializers.CharField(source="seller.name")
    buyer = BuyerOutput(source="order")
    open_exceptions = OpenExceptionOutput(many=True)

    class Meta(ShipmentOutput.Meta):
        fields = [*ShipmentOutput.Meta.fields, "seller_name", "buyer", "open_exceptions",
                  "exact_match"]  # fmt: skip
        validators = []  # output only: no unique-together check on order

    def get_exact_match(self, shipment) -> bool:
        return getattr(shipment, "search_rank", 1) == 0


class NoteOutput(serializers.ModelSerializer):
    author = serializers.CharField(source="author_label")

    class Meta:
        model = ShipmentNote
        fields = ["id", "author", "body", "created_at"]


class NoteInput(serializers.Serializer):
    body = serializers.CharField(max_length=services.NOTE_MAX_LENGTH)
    author = serializers.CharField(
        max_length=100, required=False, default="", help_text="The CRM agent's name."
    )


class EstimateOutput(serializers.ModelSerializer):
    class Meta:
        model = DeliveryEstimate
        fields = ["source", "expected_date", "window_start_date", "window_end_date",
                  "confidence", "basis", "computed_at"]  # fmt: skip


class OrderProtectionOutput(OrderProtectionFields):
    """The parcel's order's delivery performance protection."""

    def _order(self, obj):
        return obj.order


class CsShipmentOutput(OrderProtectionOutput, ShipmentDetailOutput):
    """A parcel as CS sees it: its seller, buyer, promise, and its order's delivery performance
    protection (``protected``: null until judged)."""

    seller_name = serializers.CharField(source="seller.name")
    buyer = BuyerOutput(source="order")
    promised_delivery_date = serializers.DateField(source="order.promised_delivery_date")

    class Meta(ShipmentDetailOutput.Meta):
        fields = [*ShipmentDetailOutput.Meta.fields, "seller_name", "buyer",
                  "promised_delivery_date", "protected", "protection"]  # fmt: skip
        validators = []  # output only: no unique-together check on order


class CsShipmentStoryOutput(serializers.Serializer):
    shipment = CsShipmentOutput()
    exceptions = ExceptionOutput(many=True)
    notes = NoteOutput(many=True)
    estimates = EstimateOutput(many=True, help_text="EDD history, newest first.")


class ExceptionListInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExceptionKind.choices, required=False)
    include_resolved = serializers.BooleanField(required=False, default=False)


class CsSearchApi(CsApiView):
    @extend_schema(
        parameters=[SearchInput], responses=SearchResultOutput(many=True), operation_id="cs_search"
    )
    def get(self, request):
        payload = SearchInput(data=request.query_params)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        filters = selectors.SearchFilters(
            status=data.get("status"),
            carrier=data.get("carrier"),
            seller_id=data.get("seller"),
            exception_kind=data.get("exception"),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
        )
        results = selectors.shipment_search(
            scope=Scope.from_request(request), query=data["q"], filters=filters
        )
        return Response(SearchResultOutput(results, many=True).data)


class CsShipmentApi(CsApiView):
    @extend_schema(responses=CsShipmentStoryOutput, operation_id="cs_shipment_retrieve")
    def get(self, request, shipment_id: int):
        story = selectors.shipment_story(scope=Scope.from_request(request), shipment_id=shipment_id)
        data = CsShipmentStoryOutput(
            {
                "shipment": story.shipment,
                "exceptions": story.exceptions,
                "notes": story.notes,
                "estimates": story.estimates,
            }
        ).data
        return Response(data)


class CsShipmentNotesApi(CsApiView):
    @extend_schema(responses=NoteOutput(many=True), operation_id="cs_notes_list")
    def get(self, request, shipment_id: int):
        shipment = tracking_selectors.shipment_get(
            scope=Scope.from_request(request), shipment_id=shipment_id
        )
        return Response(NoteOutput(selectors.shipment_notes(shipment=shipment), many=True).data)

    @idempotent
    @extend_schema(request=NoteInput, responses={201: NoteOutput}, operation_id="cs_notes_create")
    def post(self, request, shipment_id: int):
        shipment = tracking_selectors.shipment_get(
            scope=Scope.from_request(request), shipment_id=shipment_id
        )
        payload = NoteInput(data=request.data)
        payload.is_valid(raise_exception=True)
        token = request.auth if isinstance(request.auth, ApiToken) else None
        note = services.shipment_note_add(
            shipment=shipment,
            body=payload.validated_data["body"],
            actor=None if token else request.user,  # a CS agent's session: the agent
            actor_label=payload.validated_data["author"]
            or (f"CRM ({token.name})" if token else ""),
        )
        return Response(NoteOutput(note).data, status=status.HTTP_201_CREATED)


class CsExceptionListApi(CsApiView):
    @extend_schema(
        parameters=[ExceptionListInput],
        responses=ExceptionOutput(many=True),
        operation_id="cs_exceptions_list",
    )
    def get(self, request):
        payload = ExceptionListInput(data=request.query_params)
        payload.is_valid(raise_exception=True)
        exceptions = selectors.exception_list(
            scope=Scope.from_request(request),
            kind=payload.validated_data.get("kind"),
            include_resolved=payload.validated_data["include_resolved"],
        )
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(exceptions, request, view=self)
        return paginator.get_paginated_response(ExceptionOutput(page, many=True).data)


class CourierClaimOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    reason = serializers.CharField()
    status = serializers.CharField()
    resolution = serializers.CharField()
    carrier = serializers.CharField()
    destination_country = serializers.CharField()
    destination_region = serializers.CharField()
    shipment = serializers.IntegerField(source="shipment_id")
    tracking_number = serializers.CharField(source="shipment.tracking_number")
    order_reference = serializers.CharField(source="order.reference")
    seller_name = serializers.CharField(source="seller.name")
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class CourierClaimListInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=selectors.COURIER_CLAIM_TABS, required=False, default="open"
    )


class CsCourierClaimListApi(CsApiView):
    """The courier-claim queue: "not received" claims on protected orders with the courier's
    POD, which the marketplace takes up with the courier instead of holding the seller."""

    @extend_schema(
        parameters=[CourierClaimListInput], responses=CourierClaimOutput(many=True),
        operation_id="cs_courier_claims_list",
    )  # fmt: skip
    def get(self, request):
        payload = CourierClaimListInput(data=request.query_params)
        payload.is_valid(raise_exception=True)
        status_ = payload.validated_data["status"]
        claims = selectors.courier_claims(scope=Scope.from_request(request), status=status_)
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(claims, request, view=self)
        return paginator.get_paginated_response(CourierClaimOutput(page, many=True).data)
