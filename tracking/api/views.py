"""Tracking API: one view per operation; reads through selectors, writes through services."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Scope
from core.api import permissions as perms
from core.api.idempotency import idempotent
from core.api.pagination import ListPagination, paginated_schema, paging_parameters
from core.api.permissions import Operation
from sellers import selectors as seller_selectors
from tracking import carriers, selectors, services
from tracking.api.serializers import (
    CarrierDetectInput,
    CarrierDetectOutput,
    CarrierOutput,
    EventFeedOutput,
    EventListFilterInput,
    OrderTrackingOutput,
    PodUploadInput,
    ShipmentDetailOutput,
    ShipmentListFilterInput,
    ShipmentOutput,
    ShipmentRegisterInput,
)
from tracking.detection import detect
from tracking.services.pod import pod_upload


class CarrierListApi(APIView):
    operations = {"GET": Operation(seller=True, marketplace=True, staff_perms=perms.READ_TRACKING)}

    @extend_schema(responses=CarrierOutput(many=True), operation_id="carriers_list")
    def get(self, request):
        return Response(CarrierOutput(carriers.all_adapters(), many=True).data)


class CarrierDetectApi(APIView):
    operations = {"GET": Operation(seller=True, marketplace=True, staff_perms=perms.READ_TRACKING)}

    @extend_schema(parameters=[CarrierDetectInput], responses=CarrierDetectOutput,
                   operation_id="carriers_detect")  # fmt: skip
    def get(self, request):
        payload = CarrierDetectInput(data=request.query_params)
        payload.is_valid(raise_exception=True)
        return Response(detect(payload.validated_data["tracking_number"]).as_dict())


class ShipmentListCreateApi(APIView):
    operations = {
        "GET": Operation(seller=True, marketplace=True, staff_perms=perms.READ_TRACKING),
        "POST": Operation(seller=True, marketplace=True, staff_perms=perms.REGISTER_SHIPMENT),
    }

    @extend_schema(
        parameters=[ShipmentListFilterInput, *paging_parameters()],
        responses=paginated_schema(ShipmentOutput),
        operation_id="shipments_list",
    )
    def get(self, request):
        filters = ShipmentListFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        shipments = selectors.shipment_list(
            scope=Scope.from_request(request),
            status=data.get("status"),
            carrier=data.get("carrier"),
            seller_id=data.get("seller"),
            order_reference=data.get("order_reference"),
            query=data.get("q"),
        )
        paginator = ListPagination(ordering="-id")  # newest first: ids follow created_at
        page = paginator.paginate_queryset(shipments, request, view=self)
        return paginator.get_paginated_response(ShipmentOutput(page, many=True).data)

    @idempotent
    @extend_schema(
        request=ShipmentRegisterInput,
        responses={201: ShipmentDetailOutput},
        operation_id="shipments_register",
    )
    def post(self, request):
        payload = ShipmentRegisterInput(data=request.data)
        payload.is_valid(raise_exception=True)
        scope = Scope.from_request(request)
        order = seller_selectors.order_get(scope=scope, order_id=payload.validated_data["order"])
        data = payload.validated_data
        shipment, created = services.shipment_register(
            order=order,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            carrier_name=data["carrier_name"],
            carrier_tracking_url=data["carrier_tracking_url"],
            actor=request.user,
        )
        shipment = selectors.shipment_get(scope=scope, shipment_id=shipment.id)
        return Response(
            ShipmentDetailOutput(shipment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class EventListApi(APIView):
    """The events feed: every courier event the caller may see, in the order Parcelle stored
    them (oldest first), so a client that keeps the last ``next`` link gets exactly the events
    stored since, once each."""

    operations = {"GET": Operation(seller=True, marketplace=True, staff_perms=perms.READ_TRACKING)}

    @extend_schema(
        parameters=[EventListFilterInput, *paging_parameters()],
        responses=paginated_schema(EventFeedOutput),
        operation_id="events_list",
    )
    def get(self, request):
        filters = EventListFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = selectors.event_list(
            scope=Scope.from_request(request),
            shipment_id=filters.validated_data.get("shipment"),
            status=filters.validated_data.get("status"),
        )
        paginator = ListPagination(ordering="id")
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(EventFeedOutput(page, many=True).data)


class ShipmentDetailApi(APIView):
    operations = {"GET": Operation(seller=True, marketplace=True, staff_perms=perms.READ_TRACKING)}

    @extend_schema(responses=ShipmentDetailOutput, operation_id="shipments_retrieve")
    def get(self, request, shipment_id: int):
        shipment = selectors.shipment_get(
            scope=Scope.from_request(request), shipment_id=shipment_id
        )
        return Response(ShipmentDetailOutput(shipment).data)


class ShipmentResyncApi(APIView):
    operations = {
        "POST": Operation(seller=True, marketplace=True, staff_perms=perms.RESYNC_SHIPMENT)
    }

    @extend_schema(request=None, responses={202: ShipmentOutput}, operation_id="shipments_resync")
    def post(self, request, shipment_id: int):
        shipment = selectors.shipment_get(
            scope=Scope.from_request(request), shipment_id=shipment_id
        )
        shipment = services.shipment_resync_request(shipment=shipment, actor=request.user)
        return Response(ShipmentOutput(shipment).data, status=status.HTTP_202_ACCEPTED)


class OrderTrackingApi(APIView):
    operations = {"GET": Operation(seller=True, marketplace=True, staff_perms=perms.READ_TRACKING)}

    @extend_schema(
        responses=OrderTrackingOutput,
        operation_id="orders_tracking",
        parameters=[OpenApiParameter("order_id", int, OpenApiParameter.PATH)],
    )
    def get(self, request, order_id: int):
        order = selectors.order_tracking_get(scope=Scope.from_request(request), order_id=order_id)
        return Response(OrderTrackingOutput(order).data)


class ShipmentPodUploadApi(APIView):
    parser_classes = [MultiPartParser]
    operations = {"POST": Operation(seller=True, marketplace=True, staff_perms=perms.UPLOAD_POD)}

    @idempotent
    @extend_schema(
        request={"multipart/form-data": PodUploadInput},
        responses={201: ShipmentDetailOutput},
        operation_id="shipments_pod_upload",
    )
    def post(self, request, shipment_id: int):
        scope = Scope.from_request(request)
        shipment = selectors.shipment_get(scope=scope, shipment_id=shipment_id)
        payload = PodUploadInput(data=request.data)
        payload.is_valid(raise_exception=True)
        pod_upload(
            shipment=shipment,
            upload=payload.validated_data["file"],
            delivered_at=payload.validated_data["delivered_at"],
            signed_by=payload.validated_data["signed_by"],
            actor=request.user,
        )
        shipment = selectors.shipment_get(scope=scope, shipment_id=shipment_id)
        return Response(ShipmentDetailOutput(shipment).data, status=status.HTTP_201_CREATED)
