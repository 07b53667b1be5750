from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Scope
from sellers import selectors, services
from sellers.api.serializers import OrderCreateInput, OrderCreateOutput, OrderOutput


class OrderListCreateApi(APIView):
    @extend_schema(responses=OrderOutput(many=True), operation_id="orders_list")
    def get(self, request):
        orders = selectors.order_list(
            scope=Scope.from_request(request), reference=request.query_params.get("reference")
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(OrderOutput(page, many=True).data)

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
