"""The finance console: queues of payouts, the POD viewer, holds, releases, exports.

Staff with payouts.view_finance_console only; each action also needs its own permission
(checked again by the service). The table is an htmx partial (filters and paging swap it);
a batch release runs as a job whose progress the page polls.
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.access import Scope
from core.converters import ascii_int
from core.errors import ApplicationError
from payouts import exports, selectors, services
from payouts.models import ReleaseBatch
from sellers.models import Seller

PAGE_SIZE = 50  # rows a person can scan and tick; more pages are one click away


def finance_required(view):
    """Logged-in staff with the console permission; others are sent to log in or refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url="admin:login")
        if not (user.is_staff and user.has_perm("payouts.view_finance_console")):
            raise DjangoPermissionDenied("The finance console needs the finance permission.")
        return view(request, *args, **kwargs)

    return wrapper


class FilterForm(forms.Form):
    queue = forms.ChoiceField(
        choices=[(key, label) for key, (label, _q) in selectors.QUEUES.items()],
        required=False,
    )
    seller = forms.ModelChoiceField(queryset=Seller.objects.order_by("name"), required=False)
    carrier = forms.CharField(max_length=40, required=False)
    paid_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    paid_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    # In currency units (12.50 EUR, 4500 JPY, 1.250 KWD); the selector compares each payout in
    # its own currency's minor units.
    amount_min = forms.DecimalField(required=False, min_value=0, decimal_places=3)
    amount_max = forms.DecimalField(required=False, min_value=0, decimal_places=3)

    def filters(self) -> selectors.PayoutFilters:
        data = self.cleaned_data if self.is_valid() else {}
        seller = data.get("seller")
        return selectors.PayoutFilters(
            queue=data.get("queue") or "eligible",
            seller_id=seller.pk if seller else None,
            carrier=(data.get("carrier") or "").strip() or None,
            paid_from=data.get("paid_from"),
            paid_to=data.get("paid_to"),
            amount_min=data.get("amount_min"),
            amount_max=data.get("amount_max"),
        )


def _table_context(request: HttpRequest) -> dict:
    form = FilterForm(request.GET)
    filters = form.filters()
    payouts = selectors.payout_list_with_parcels(scope=Scope.marketplace(), filters=filters)
    page = Paginator(payouts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "filters": filters,
        "queues": [(key, label) for key, (label, _q) in selectors.QUEUES.items()],
        "page": page,
        "query": query.urlencode(),
        "can_release": request.user.has_perm("payouts.release_payout"),
    }


@require_GET
@finance_required
def console(request: HttpRequest) -> HttpResponse:
    context = _table_context(request)
    if request.htmx:
        return render(request, "payouts/_table.html", context)
    return render(request, "payouts/console.html", context)


@require_GET
@finance_required
def payouts_csv(request: HttpRequest) -> StreamingHttpResponse:
    filters = FilterForm(request.GET).filters()
    payouts = (
        selectors.payout_list(scope=Scope.marketplace(), filters=filters)
        .select_related("released_by")
        .iterator(chunk_size=2000)
    )
    rows = (exports.payout_row(p) for p in payouts)
    return _csv_response(exports.csv_lines(exports.PAYOUT_HEADER, rows), "payouts")


@require_GET
@finance_required
def audit_csv(request: HttpRequest, payout_id: int | None = None) -> StreamingHttpResponse:
    if payout_id is not None:
        payout = selectors.payout_get(scope=Scope.marketplace(), payout_id=payout_id)
        events = selectors.payout_events(payout=payout).select_related("payout__order")
        name = f"payout-{payout_id}-audit"
    else:
        filters = FilterForm(request.GET).filters()
        events = selectors.audit_events(scope=Scope.marketplace(), filters=filters)
        name = "payouts-audit"
    rows = (exports.audit_row(e) for e in events.iterator(chunk_size=2000))
    return _csv_response(exports.csv_lines(exports.AUDIT_HEADER, rows), name)


def _csv_response(lines, name: str) -> StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


@require_GET
@finance_required
def payout_detail(request: HttpRequest, payout_id: int) -> HttpResponse:
    try:
        payout = selectors.payout_get(scope=Scope.marketplace(), payout_id=payout_id)
    except ApplicationError:
        return render(request, "payouts/not_found.html", {"payout_id": payout_id}, status=404)
    user = request.user
    return render(
        request,
        "payouts/payout_detail.html",
        {
            "payout": payout,
            "parcels": selectors.payout_parcels(payout=payout),
            "events": selectors.payout_events(payout=payout),
            "entries": payout.journal_entries.prefetch_related("lines").order_by("id"),
            "can_release": user.has_perm("payouts.release_payout"),
            "can_override": user.has_perm("payouts.override_pod_release"),
        },
    )


ACTIONS = {
    "hold": lambda payout, user, reason: services.payout_hold(
        payout=payout, actor=user, reason=reason
    ),
    "unhold": lambda payout, user, reason: services.payout_unhold(
        payout=payout, actor=user, reason=reason
    ),
    "release": lambda payout, user, reason: services.payout_release(payout=payout, actor=user),
    "override": lambda payout, user, reason: services.payout_release(
        payout=payout, actor=user, override=True, reason=reason
    ),
    "refund": lambda payout, user, reason: services.payout_refund(
        payout=payout, actor=user, reason=reason
    ),
}


@require_POST
@finance_required
def payout_action(request: HttpRequest, payout_id: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        return HttpResponse(status=404)
    payout = get_object_or_404(selectors.payout_list(scope=Scope.marketplace()), pk=payout_id)
    try:
        ACTIONS[action](payout, request.user, request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Payout {payout_id}: {action} done.")
    return redirect("payouts:payout-detail", payout_id=payout_id)


@require_POST
@finance_required
def batch_start(request: HttpRequest) -> HttpResponse:
    ids = [ascii_int(value) for value in request.POST.getlist("payout")]
    try:
        batch = services.release_batch_start(
            payout_ids=[i for i in ids if i is not None], actor=request.user
        )
    except ApplicationError as exc:
        return render(request, "payouts/_batch.html", {"error": exc.message})
    batch.refresh_from_db()
    return render(request, "payouts/_batch.html", {"batch": batch})


@require_GET
@finance_required
def batch_status(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(ReleaseBatch, pk=batch_id)
    return render(request, "payouts/_batch.html", {"batch": batch})


@require_GET
@finance_required
def courier_claims(request: HttpRequest) -> HttpResponse:
    """The courier-claim queue (the same one CS works): "not received" claims on protected
    orders, delivered with the courier's POD, that do not hold the seller's payout."""
    status = selectors.courier_claim_tab(request.GET.get("status"))
    claims = selectors.courier_claim_queue(scope=Scope.marketplace(), status=status)[:200]
    return render(request, "payouts/courier_claims.html",
                  {"claims": list(claims), "status": status})  # fmt: skip
