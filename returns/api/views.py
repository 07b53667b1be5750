"""Returns API: the seller portal's returns (/seller/returns/) for sellers' systems and the CRM.

Who may do what follows the portal: the seller decides on its own returns, so accept, refuse
and received take a seller token (or a seller member's session) and act only on that seller's
returns; the marketplace token and staff with ``returns.view_returnrequest`` read every return
but decide on none (the portal has no staff page that does, and the admin is read-only). A
return outside the caller's scope is a 404, as if it did not exist. Thin: reads through
returns.selectors, every change through returns.services, which check the transition, write
the audit row and send ``return_step_recorded`` (the buyer's email, the seller's webhook).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Scope
from core.api import permissions as perms
from core.api.pagination import BoundedLimitOffsetPagination
from core.api.permissions import Operation
from core.errors import ApplicationError
from returns import selectors, services
from returns.api.serializers import (
    ErrorOutput,
    RefusalOutput,
    ReturnDetailOutput,
    ReturnListFilterInput,
    ReturnOutput,
    ReturnRefuseInput,
)

READ_RETURNS = Operation(seller=True, marketplace=True, staff_perms=perms.VIEW_RETURNS)
# The seller's decision only (see the module docstring).
SELLER_DECIDES = Operation(seller=True)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


def _refusal(description: str) -> OpenApiResponse:
    # DRF refuses these before the view runs, with its {"detail"} body (core/api/exceptions.py
    # passes them through unchanged).
    return OpenApiResponse(RefusalOutput, description=description)


COMMON = {
    401: _refusal("No valid token or session."),
    403: _refusal("This token or account may not use this operation."),
    429: _error("Over the caller's quota (code rate_limited; see Retry-After)."),
}
NOT_FOUND = {404: _error("No such return in the caller's scope (code not_found).")}


def _first_error(errors: dict) -> ApplicationError:
    field, messages = next(iter(errors.items()))
    return ApplicationError(str(messages[0]), code="invalid", field=field)


def _checked(serializer) -> dict:
    """The serializer's data, or the API's one error body for the first field refused."""
    if not serializer.is_valid():
        raise _first_error(serializer.errors)
    return serializer.validated_data


def _detail(request, return_id: int, status: int = 200) -> Response:
    item = selectors.return_detail_get(scope=Scope.from_request(request), return_id=return_id)
    return Response(ReturnDetailOutput(item).data, status=status)


def _for_action(request, return_id: int):
    return selectors.return_get(scope=Scope.from_request(request), return_id=return_id)


class ReturnListApi(APIView):
    operations = {"GET": READ_RETURNS}
    # Named here (not only used) so the schema shows the envelope and limit/offset it answers.
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(
        parameters=[ReturnListFilterInput],
        responses={
            200: ReturnOutput(many=True),
            400: _error("A filter or limit/offset is not valid (errors names it)."),
            **COMMON,
        },
        operation_id="returns_list",
        description="Buyers' return requests, newest first: a seller token sees its own.",
    )
    def get(self, request):
        data = _checked(ReturnListFilterInput(data=request.query_params))
        returns = selectors.return_search(
            scope=Scope.from_request(request), status=data.get("status"),
            order_reference=data.get("order_reference"),
            requested_from=data.get("requested_from"), requested_to=data.get("requested_to"),
        )  # fmt: skip
        paginator = self.pagination_class()
        try:
            page = paginator.paginate_queryset(returns, request, view=self)
        except ValidationError as exc:  # a bad limit/offset: the same body as a bad filter
            raise _first_error(exc.detail) from None
        return paginator.get_paginated_response(ReturnOutput(page, many=True).data)


class ReturnDetailApi(APIView):
    operations = {"GET": READ_RETURNS}

    @extend_schema(
        responses={200: ReturnDetailOutput, **COMMON, **NOT_FOUND},
        operation_id="returns_retrieve",
    )
    def get(self, request, return_id: int):
        return _detail(request, return_id)


TRANSITION = _error("The return is not in a state this step can follow (code invalid_transition).")


class ReturnAcceptApi(APIView):
    operations = {"POST": SELLER_DECIDES}

    @extend_schema(
        request=None,
        responses={200: ReturnDetailOutput, 400: TRANSITION, **COMMON, **NOT_FOUND},
        operation_id="returns_accept",
        description="Accept a requested return: the buyer is told to send the items back "
        "(the return shipping is paid as the policy says). Like the portal, it asks nothing "
        "more. Accepting an accepted return changes nothing (200).",
    )
    def post(self, request, return_id: int):
        services.return_request_accept(request=_for_action(request, return_id), actor=request.user)
        return _detail(request, return_id)


class ReturnRefuseApi(APIView):
    operations = {"POST": SELLER_DECIDES}

    @extend_schema(
        request=ReturnRefuseInput,
        responses={
            200: ReturnDetailOutput,
            400: _error("No reason given (errors.reason), or the return is no longer "
                        "requested (code invalid_transition)."),
            **COMMON, **NOT_FOUND,
        },
        operation_id="returns_refuse",
        description="Refuse a requested return with a reason the buyer reads; the payout's "
        "hold is lifted.",
    )  # fmt: skip
    def post(self, request, return_id: int):
        data = _checked(ReturnRefuseInput(data=request.data))
        services.return_request_refuse(
            request=_for_action(request, return_id), actor=request.user, reason=data["reason"]
        )
        return _detail(request, return_id)


class ReturnReceivedApi(APIView):
    operations = {"POST": SELLER_DECIDES}

    @extend_schema(
        request=None,
        responses={200: ReturnDetailOutput, 400: TRANSITION, **COMMON, **NOT_FOUND},
        operation_id="returns_received",
        description="The items of a shipped return are back: a refund goes through the ledger "
        "(an exchange just lifts the hold). Marking a received return again changes nothing.",
    )
    def post(self, request, return_id: int):
        services.return_receive(request=_for_action(request, return_id), actor=request.user)
        return _detail(request, return_id)
