"""Who is asking, and what they may see: the one place that turns a request into a scope.

Selectors take a ``Scope`` and filter by it, so authorisation lives in reads, not in each view.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import PermissionDenied


@dataclass(frozen=True)
class Scope:
    """``seller_id`` None means the whole marketplace (staff, marketplace tokens)."""

    seller_id: int | None

    @property
    def is_marketplace(self) -> bool:
        return self.seller_id is None

    @classmethod
    def marketplace(cls) -> Scope:
        return cls(seller_id=None)

    @classmethod
    def for_seller(cls, seller_id: int) -> Scope:
        return cls(seller_id=seller_id)

    @classmethod
    def from_request(cls, request) -> Scope:
        from core.models import ApiToken

        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            return cls(seller_id=token.seller_id)
        user = request.user
        if user.is_authenticated and user.is_staff:
            return cls.marketplace()
        membership = getattr(user, "seller_membership", None) if user.is_authenticated else None
        if membership is not None:
            return cls.for_seller(membership.seller_id)
        raise PermissionDenied("This account is not attached to a seller or to the marketplace.")

    def resolve_seller_id(self, requested_seller_id: int | None) -> int:
        """The seller a write acts for: a seller scope's own, or the one a marketplace names."""
        if self.seller_id is not None:
            if requested_seller_id not in (None, self.seller_id):
                raise PermissionDenied("A seller token can only act for its own seller.")
            return self.seller_id
        if requested_seller_id is None:
            from core.errors import ApplicationError

            raise ApplicationError("seller is required with a marketplace token", field="seller")
        return requested_seller_id
