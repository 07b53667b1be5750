from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Scope
from core.api import permissions as perms
from core.api.idempotency import idempotent
from core.api.pagination import BoundedLimitOffsetPagination
from core.api.permissions import Operation
from sellers import selectors, services
from sellers.api.serializers import (
    LaneOutput,
    OrderCreateInput,
    OrderCreateOutput,
    OrderOutput,
    PerformanceInput,
    RecommendationInput,
    RecommendationOutput,
    ShipmentConfirmInput,
    ShipmentConfirmOutput,
)
from sellers.metrics import lane_label, lane_parse
from sellers.selectors import Period
from sellers.uploads import shipment_confirm


class OrderListCreateApi(APIView):
    operations = {
        "GET": Operation(seller=True, marketplace=True, staff_perms=perms.VIEW_ORDERS),
        "POST": Operation(seller=True, marketplace=True, staff_perms=perms.CREATE_ORDERS),
    }

    @extend_schema(responses=OrderOutput(many=True), operation_id="orders_list")
    def get(self, request):
        orders = selectors.order_list(
            scope=Scope.from_request(request), reference=request.query_params.get("reference")
        )
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(OrderOutput(page, many=True).data)

    @idempotent
    @extend_schema(
        request=OrderCreateInput, responses={201: OrderCreateOutput}, operation_id="orders_create"
    )
    def post(self, request):
        payload = OrderCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        scope = Scope.from_request(request)
        seller_id = scope.resolve_seller_id(data.pop("seller", None))
        seller = selectors.seller_get(scope=scope, seller_id=seller_id)
        order = services.order_create(seller=seller, **data)
        return Response(OrderCreateOutput(order).data, status=status.HTTP_201_CREATED)


def _period(data) -> Period:
    start, end = data.get("start"), data.get("end")
    return Period.parse(start.isoformat() if start else None, end.isoformat() if end else None)


def _seller_id(scope: Scope, requested: int | None) -> int:
    seller_id = scope.resolve_seller_id(requested)
    selectors.seller_get(scope=scope, seller_id=seller_id)
    return seller_id


class ShipmentConfirmApi(APIView):
    operations = {
        "POST": Operation(seller=True, marketplace=True, staff_perms=perms.REGISTER_SHIPMENT)
    }

    """The API twin of the portal's "confirm shipment" form (seller tokens)."""

    @idempotent
    @extend_schema(
        request=ShipmentConfirmInput,
        responses={201: ShipmentConfirmOutput, 200: ShipmentConfirmOutput},
        operation_id="sellers_shipments_confirm",
    )
    def post(self, request):
        payload = ShipmentConfirmInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        order = selectors.order_by_reference(
            scope=Scope.from_request(request), reference=data["order_reference"]
        )
        shipment, created = shipment_confirm(
            order=order, carrier=data["carrier"].strip().lower(),
            tracking_number=data["tracking_number"], carrier_name=data["carrier_name"],
            actor=request.user,
        )  # fmt: skip
        body = {"shipment": shipment.id, "order_reference": order.reference,
                "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
                "created": created}  # fmt: skip
        return Response(
            ShipmentConfirmOutput(body).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _option(rank: int | None, option) -> dict:
    return {"rank": rank, "carrier": option.carrier, "confidence": option.confidence,
            "judged_parcels": option.totals.on_time_eligible,
            "on_time_lower_bound": option.on_time_lower_bound,
            "figures": option.totals.figures()}  # fmt: skip


class RecommendationApi(APIView):
    operations = {
        "GET": Operation(seller=True, marketplace=True, staff_perms=perms.VIEW_SELLER_FIGURES)
    }

    @extend_schema(
        parameters=[RecommendationInput],
        responses=RecommendationOutput,
        operation_id="sellers_recommendations",
    )
    def get(self, request):
        params = RecommendationInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        scope = Scope.from_request(request)
        origin = data["origin"]
        if origin is None:
            origin = selectors.seller_origin_region(scope=scope, seller_id=scope.seller_id)
        result = selectors.courier_recommendation(
            scope=scope, origin_region=origin.upper(), destination=lane_parse(data["destination"]),
            service_level=data["service_level"],
        )  # fmt: skip
        body = {
            "origin": result.origin_region,
            "destination": lane_label(result.destination_country, result.destination_region),
            "service_level": result.service_level,
            "recommended": result.best.carrier if result.best else None,
            "couriers": [_option(i, o) for i, o in enumerate(result.ranked, start=1)]
            + [_option(None, o) for o in result.not_enough_data],
        }
        return Response(RecommendationOutput(body).data)


class PerformanceApi(APIView):
    operations = {
        "GET": Operation(seller=True, marketplace=True, staff_perms=perms.VIEW_SELLER_FIGURES)
    }

    @extend_schema(
        parameters=[PerformanceInput],
        responses=LaneOutput(many=True),
        operation_id="sellers_performance",
    )
    def get(self, request):
        params = PerformanceInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        scope = Scope.from_request(request)
        destination = data.get("destination")
        rows = selectors.courier_performance(
            scope=scope, seller_id=_seller_id(scope, data.get("seller")), period=_period(data),
            destination=lane_parse(destination) if destination else None, by_destination=True,
        )  # fmt: skip
        body = [{"carrier": r.carrier, "destination": r.destination,
                 "seller": r.seller.figures(),
                 "marketplace": r.marketplace.figures() if r.marketplace else None}
                for r in rows]  # fmt: skip
        return Response(LaneOutput(body, many=True).data)


class SlaApi(APIView):
    operations = {
        "GET": Operation(seller=True, marketplace=True, staff_perms=perms.VIEW_SELLER_FIGURES)
    }

    @extend_schema(
        parameters=[PerformanceInput],
        responses=inline_serializer(
            "SlaFigureOutput",
            {"metric": serializers.CharField(), "value": serializers.FloatField(allow_null=True),
             "target": serializers.FloatField(), "target_is": serializers.CharField(),
             "meets_target": serializers.BooleanField(allow_null=True)},
            many=True,
        ),
        operation_id="sellers_sla",
    )  # fmt: skip
    def get(self, request):
        params = PerformanceInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        scope = Scope.from_request(request)
        figures = selectors.seller_sla(
            scope=scope, seller_id=_seller_id(scope, data.get("seller")), period=_period(data)
        )
        return Response([{"metric": f.metric, "value": f.value, "target": f.target,
                          "target_is": f.direction, "meets_target": f.meets_target}
                         for f in figures])  # fmt: skip
