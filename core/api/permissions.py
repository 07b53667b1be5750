"""Who may call each API operation: the one gate in front of every API view (issue 14, item 3).

Every API view names, per HTTP method, an ``Operation``: whether seller-scoped callers (seller
tokens, seller users' sessions) and marketplace tokens may call it, and which Django permission
a marketplace staff session needs. ``OperationPermission`` is DRF's default permission class,
so a view that names nothing for a method is refused: an endpoint cannot be open by omission.
``is_staff`` alone grants nothing; superusers hold every permission.

What a caller then sees stays the selectors' business (core.access.Scope): a seller caller only
ever reaches its own seller's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.permissions import BasePermission

from core.models import ApiToken

# The Django permissions API operations check for staff sessions, named once.
READ_TRACKING = ("tracking.view_shipment", "tracking.use_cs_console")  # the CS console's reads
USE_CS_CONSOLE = ("tracking.use_cs_console",)
REGISTER_SHIPMENT = ("tracking.add_shipment",)
RESYNC_SHIPMENT = ("tracking.change_shipment", "tracking.use_cs_console")
UPLOAD_POD = ("tracking.add_proofofdelivery",)
VIEW_ORDERS = ("sellers.view_order",)
CREATE_ORDERS = ("sellers.add_order",)
VIEW_SELLER_FIGURES = ("sellers.view_seller",)
VIEW_PAYOUTS = ("payouts.view_payout",)
VIEW_RETURNS = ("returns.view_returnrequest",)


@dataclass(frozen=True)
class Operation:
    """Who may call one API operation.

    ``seller``: seller tokens and seller users (their own seller's rows only).
    ``marketplace``: marketplace-scoped tokens.
    ``staff_perms``: a staff session needs one of these permissions (empty: no staff session).
    """

    seller: bool = False
    marketplace: bool = False
    staff_perms: tuple[str, ...] = ()

    def allows(self, request) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            return self.marketplace if token.is_marketplace else self.seller
        if getattr(user, "seller_membership", None) is not None:
            return self.seller
        return any(user.has_perm(perm) for perm in self.staff_perms)


class OperationPermission(BasePermission):
    """DRF's default: the view's ``operations[method]`` decides; no entry, no access."""

    message = "This account or token may not use this API operation."

    def has_permission(self, request, view) -> bool:
        operations = getattr(view, "operations", {})
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        operation = operations.get(method)
        return operation is not None and operation.allows(request)
