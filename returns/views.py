"""Return pages: the seller portal's (/seller/returns/…, the logged-in member's seller only, no
seller id in any URL) and the buyer's (/t/<token>/return/, public: the order's token is the key).
Thin: forms and services do the work; every refusal is the service's message."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_http_methods, require_POST

from core.access import Scope
from core.actors import BUYER
from core.converters import ascii_int
from core.errors import ApplicationError, NotFound
from returns import selectors, services
from returns.forms import PolicyForm, RefuseForm, TrackingNumberForm
from returns.models import Condition, Reason, Resolution, ReturnRequest
from sellers.models import Seller
from tracking.buyer.http import (
    PAGE_WINDOW_SECONDS,
    choose_language,
    content_security_policy,
    page_rate_limit,
    protect,
    rate_limit_exceeded,
    style_hash,
    too_many_requests,
)
from tracking.buyer.wording import brand_for

LIST_LIMIT = 200  # newest first; older ones are in the admin


def _couriers() -> list[tuple[str, str]]:
    """The couriers a return parcel can be registered with (empty choice: detect)."""
    from tracking import carriers

    return sorted(((a.slug, a.name) for a in carriers.all_adapters()), key=lambda c: c[1])


def _member_seller(request: HttpRequest) -> Seller:
    membership = getattr(request.user, "seller_membership", None)
    if membership is None:
        raise PermissionDenied("This page is for sellers' staff.")
    return membership.seller


def _seller_return(request: HttpRequest, return_id: int) -> tuple[Seller, ReturnRequest]:
    seller = _member_seller(request)
    try:
        return seller, selectors.return_get(scope=Scope.for_seller(seller.id), return_id=return_id)
    except NotFound:
        raise Http404("No such return.") from None


@login_required
def return_list(request: HttpRequest) -> HttpResponse:
    seller = _member_seller(request)
    status = request.GET.get("status") or None
    if status not in (None, *ReturnRequest.Status.values):
        status = None
    requests = selectors.return_list(scope=Scope.for_seller(seller.id), status=status)
    return render(request, "returns/seller_list.html", {
        "seller": seller, "requests": requests[:LIST_LIMIT], "status": status,
        "statuses": ReturnRequest.Status.choices,
    })  # fmt: skip


@login_required
def return_detail(request: HttpRequest, return_id: int) -> HttpResponse:
    seller, item = _seller_return(request, return_id)
    return render(request, "returns/seller_detail.html", {
        "seller": seller, "request_": item, "refuse_form": RefuseForm(),
        "tracking_form": TrackingNumberForm(), "couriers": _couriers(),
    })  # fmt: skip


@login_required
def return_photo(request: HttpRequest, return_id: int, photo_id: int) -> FileResponse:
    """A buyer's photo, to the seller of the return only (never a public media URL)."""
    _seller, item = _seller_return(request, return_id)
    try:
        photo = selectors.return_photo_get(request=item, photo_id=photo_id)
    except NotFound:
        raise Http404("No such photo.") from None
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError:
        raise Http404("The photo file is missing.") from None
    response = FileResponse(handle, content_type=photo.content_type)
    response["Content-Security-Policy"] = "default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _act(request: HttpRequest, return_id: int, action) -> HttpResponse:
    _seller, item = _seller_return(request, return_id)
    try:
        message = action(item)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("returns:seller-detail", return_id=item.pk)


@login_required
@require_POST
def return_accept(request: HttpRequest, return_id: int) -> HttpResponse:
    def accept(item):
        services.return_request_accept(request=item, actor=request.user)
        return "Return accepted: the buyer is told to send the items back."

    return _act(request, return_id, accept)


@login_required
@require_POST
def return_refuse(request: HttpRequest, return_id: int) -> HttpResponse:
    def refuse(item):
        services.return_request_refuse(
            request=item, actor=request.user, reason=request.POST.get("reason", "")
        )
        return "Return refused: the buyer is told why."

    return _act(request, return_id, refuse)


@login_required
@require_POST
def return_tracking(request: HttpRequest, return_id: int) -> HttpResponse:
    def add(item):
        services.return_shipment_add(
            request=item, tracking_number=request.POST.get("tracking_number", ""),
            carrier=request.POST.get("carrier") or None, actor=request.user,
        )  # fmt: skip
        return "Return parcel registered: it is tracked until it reaches you."

    return _act(request, return_id, add)


@login_required
@require_POST
def return_mark_received(request: HttpRequest, return_id: int) -> HttpResponse:
    def receive(item):
        services.return_receive(request=item, actor=request.user)
        return "Return received: the buyer is refunded for the returned items."

    return _act(request, return_id, receive)


@login_required
def policy_edit(request: HttpRequest) -> HttpResponse:
    seller = _member_seller(request)
    current = selectors.policy_current(seller_id=seller.id)
    form = PolicyForm.for_policy(current, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        policy = services.return_policy_set(seller=seller, values=form.values(),
                                            actor=request.user)  # fmt: skip
        messages.success(
            request,
            f"Return policy saved (version {policy.version}). Orders "
            "delivered before keep the rules they were delivered under.",
        )
        return redirect("returns:policy")
    versions = selectors.policy_versions(scope=Scope.for_seller(seller.id), seller_id=seller.id)
    return render(request, "returns/policy.html", {
        "seller": seller, "form": form, "current": current, "versions": versions[:20],
    })  # fmt: skip


@login_required
def return_stats(request: HttpRequest) -> HttpResponse:
    seller = _member_seller(request)
    stats = selectors.return_stats(scope=Scope.for_seller(seller.id), seller_id=seller.id)
    return render(request, "returns/stats.html", {"seller": seller, "stats": stats})


# --- The buyer's return page ------------------------------------------------------------------


def _buyer_render(request, order, context, status=200) -> HttpResponse:
    language = choose_language(request, order.buyer_locale)
    brand = brand_for(order.seller)
    with translation.override(language):
        response = render(request, "returns/buyer.html", {
            "language": language, "languages": settings.LANGUAGES, "brand": brand,
            "page_path": request.path, "order": order, **context,
        }, status=status)  # fmt: skip
    response["Content-Language"] = language
    csp = content_security_policy(style_sources=(style_hash(brand.css),), image_url=brand.logo_url)
    return protect(response, csp=csp)


def _items_from_post(post, items) -> list[services.ItemChoice]:
    chosen = []
    for line in items:
        try:
            quantity = int(post.get(f"quantity_{line.id}") or 0)
        except ValueError:
            quantity = 0
        if quantity > 0:
            chosen.append(
                services.ItemChoice(line.id, quantity, post.get(f"condition_{line.id}", ""))
            )
        # fmt: skip
    return chosen


@require_http_methods(["GET", "POST"])
def buyer_return(request: HttpRequest, token: str) -> HttpResponse:
    """The buyer picks items, a reason, the condition, adds photos; or follows their returns."""
    retry_after = rate_limit_exceeded(
        request, bucket="page", limit=page_rate_limit(), window=PAGE_WINDOW_SECONDS
    )
    if retry_after:
        return too_many_requests(retry_after)
    try:
        order = selectors.order_for_return_token(token=token)
    except NotFound:
        raise Http404("No such order.") from None
    delivery = selectors.order_delivery(order=order)
    policy = (
        selectors.policy_in_force(seller_id=order.seller_id, at=delivery.delivered_at)
        if delivery else None
    )  # fmt: skip
    items = selectors.order_lines(order=order)
    remaining = selectors.returnable_quantities(order=order)
    error, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action", "request")
        # Refusals are read by the buyer: in the page's language.
        with translation.override(choose_language(request, order.buyer_locale)):
            error, status = _buyer_post(request, order, items, action)
        if not error:
            return redirect(request.path)
    returns = selectors.buyer_returns(order=order)
    lines = [{"item": line, "remaining": remaining.get(line.id, 0),
              "range": range(1, remaining.get(line.id, 0) + 1)} for line in items]  # fmt: skip
    return _buyer_render(request, order, {
        "delivery": delivery, "policy": policy, "lines": lines, "returns": returns,
        "can_request": bool(delivery) and not any(r.is_open for r in returns)
        and any(line["remaining"] for line in lines),
        **_policy_choices(policy), "error": error, "couriers": _couriers(),
    }, status=status)  # fmt: skip


def _buyer_post(request, order, items, action: str) -> tuple[str, int]:
    """Run the buyer's action; ("", 200) when done, (the refusal, 400) otherwise."""
    try:
        if action == "request":
            services.return_request_create(
                order=order, items=_items_from_post(request.POST, items),
                reason=request.POST.get("reason", ""),
                resolution=request.POST.get("resolution", ""),
                description=request.POST.get("description", ""),
                photos=request.FILES.getlist("photos"),
            )  # fmt: skip
            return "", 200
        mine = selectors.buyer_return_get(
            order=order, return_id=ascii_int(request.POST.get("return", "")) or 0
        )
        if action == "tracking":
            services.return_shipment_add(
                request=mine, tracking_number=request.POST.get("tracking_number", ""),
                carrier=request.POST.get("carrier") or None, actor=BUYER,
            )  # fmt: skip
        elif action == "cancel":
            services.return_request_cancel(request=mine)
    except ApplicationError as exc:
        return exc.message, 400
    except (NotFound, ValueError):
        return translation.gettext("This return does not exist."), 400
    return "", 200


def _policy_choices(policy) -> dict[str, list[tuple[str, str]]]:
    """What the buyer may pick under this policy, as (code, label) in the models' order."""

    def pick(choices, allowed):
        return [(code, label) for code, label in choices if code in (allowed or [])]

    return {
        "reasons": pick(Reason.choices, policy and policy.allowed_reasons),
        "conditions": pick(Condition.choices, policy and policy.allowed_conditions),
        "resolutions": pick(Resolution.choices, policy and policy.resolutions),
    }
