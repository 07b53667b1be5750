"""The CS console (/cs/): one search box, the shipment's whole story, the exception queues.

Staff with tracking.use_cs_console (the "cs agent" group; superusers) only. Reads go through
cs.selectors, actions through tracking.services.cs; the results table is an htmx partial
(templates/cs/_results.html) that the search box swaps as the agent types.
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.access import Scope
from core.converters import ascii_int
from core.errors import ApplicationError, NotFound
from cs import selectors
from tracking import carriers
from tracking import selectors as tracking_selectors
from tracking.models import ExceptionKind, StatusChoices
from tracking.services import cs as services

CS_PERMISSION = "tracking.use_cs_console"


def cs_required(view):
    """Logged-in staff with the CS permission; others are sent to log in or refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url="admin:login")
        if not (user.is_staff and user.has_perm(CS_PERMISSION)):
            raise DjangoPermissionDenied("The CS console needs the CS agent permission.")
        return view(request, *args, **kwargs)

    return wrapper


class SearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False)
    status = forms.ChoiceField(choices=[("", "any status"), *StatusChoices.choices], required=False)
    carrier = forms.ChoiceField(choices=[], required=False)
    seller = forms.ModelChoiceField(
        queryset=selectors.cs_seller_choices(), required=False, empty_label="any seller"
    )
    exception = forms.ChoiceField(
        choices=[("", "any exception"), *ExceptionKind.choices], required=False
    )
    created_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = [("", "any courier")] + [
            (a.slug, a.name) for a in carriers.all_adapters()
        ]

    def search(self, scope: Scope):
        data = self.cleaned_data if self.is_valid() else {}
        seller = data.get("seller")
        filters = selectors.SearchFilters(
            status=data.get("status") or None,
            carrier=data.get("carrier") or None,
            seller_id=seller.pk if seller else None,
            exception_kind=data.get("exception") or None,
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
        )
        return selectors.shipment_search(scope=scope, query=data.get("q") or "", filters=filters)


@require_GET
@cs_required
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    context = {
        "form": form,
        "results": list(form.search(Scope.marketplace())),
        "query": request.GET.get("q", ""),
        "limit": selectors.SEARCH_LIMIT,
    }
    if request.htmx:
        return render(request, "cs/_results.html", context)
    return render(request, "cs/search.html", context)


@require_GET
@cs_required
def shipment_detail(request: HttpRequest, shipment_id: int) -> HttpResponse:
    try:
        story = selectors.shipment_story(scope=Scope.marketplace(), shipment_id=shipment_id)
    except NotFound:
        return render(request, "cs/not_found.html", {"shipment_id": shipment_id}, status=404)
    shipment = story.shipment
    return render(
        request,
        "cs/shipment.html",
        {
            "story": story,
            "shipment": shipment,
            "order": shipment.order,
            "pod": getattr(shipment, "pod", None),
            "protection": getattr(shipment.order, "protection", None),
            "notifications": selectors.shipment_notifications(shipment_id=shipment.id),
            "feedback": selectors.shipment_delivery_feedback(order=shipment.order),
            "payout": selectors.shipment_payout(
                scope=Scope.marketplace(), order_id=shipment.order_id
            ),
            "carriers": [a for a in carriers.all_adapters() if a.slug != shipment.carrier],
            "resolutions": [(r.value, r.label) for r in services.AGENT_RESOLUTIONS],
            "agents": selectors.cs_agents(),
            "now": timezone.now(),
        },
    )


def _act(request: HttpRequest, action, success: str):
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)


def _shipment(shipment_id: int):
    return tracking_selectors.shipment_get(scope=Scope.marketplace(), shipment_id=shipment_id)


@require_POST
@cs_required
def shipment_note(request: HttpRequest, shipment_id: int) -> HttpResponse:
    shipment = _shipment(shipment_id)
    _act(
        request,
        lambda: services.shipment_note_add(
            shipment=shipment, body=request.POST.get("body", ""), actor=request.user
        ),
        "Note added.",
    )
    return redirect("cs:shipment", shipment_id=shipment_id)


@require_POST
@cs_required
def shipment_resync(request: HttpRequest, shipment_id: int) -> HttpResponse:
    shipment = _shipment(shipment_id)
    _act(
        request,
        lambda: services.shipment_resync_by_agent(shipment=shipment, actor=request.user),
        "Resync requested: the courier is asked now.",
    )
    return redirect("cs:shipment", shipment_id=shipment_id)


@require_POST
@cs_required
def shipment_carrier(request: HttpRequest, shipment_id: int) -> HttpResponse:
    shipment = _shipment(shipment_id)
    _act(
        request,
        lambda: services.shipment_carrier_correct(
            shipment=shipment,
            carrier=request.POST.get("carrier", ""),
            reason=request.POST.get("reason", ""),
            actor=request.user,
        ),
        "Courier corrected: the parcel is synced with it now.",
    )
    return redirect("cs:shipment", shipment_id=shipment_id)


@require_POST
@cs_required
def exception_assign(request: HttpRequest, exception_id: int) -> HttpResponse:
    exception = selectors.exception_get(scope=Scope.marketplace(), exception_id=exception_id)
    assignee_id = request.POST.get("assignee", "")
    if assignee_id == "me":
        assignee = request.user
    elif (assignee_pk := ascii_int(assignee_id)) is not None:
        assignee = selectors.cs_assignee_get(user_id=assignee_pk)
    else:
        assignee = None
    _act(
        request,
        lambda: services.exception_assign(
            exception=exception, assignee=assignee, actor=request.user
        ),
        "Exception assigned." if assignee else "Exception back in the queue.",
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("cs:queues")
    return redirect(target)


@require_POST
@cs_required
def exception_resolve(request: HttpRequest, exception_id: int) -> HttpResponse:
    exception = selectors.exception_get(scope=Scope.marketplace(), exception_id=exception_id)
    _act(
        request,
        lambda: services.exception_resolve(
            exception=exception,
            resolution=request.POST.get("resolution", ""),
            note=request.POST.get("note", ""),
            actor=request.user,
        ),
        "Exception resolved.",
    )
    return redirect("cs:shipment", shipment_id=exception.shipment_id)


@require_GET
@cs_required
def queues(request: HttpRequest) -> HttpResponse:
    scope = Scope.marketplace()
    kind = request.GET.get("kind") or None
    if kind not in {k.value for k in ExceptionKind}:
        kind = None
    mine = request.GET.get("mine") == "1"
    exceptions = selectors.exception_list(
        scope=scope, kind=kind, assigned_to_id=request.user.pk if mine else None
    )[:200]
    return render(
        request,
        "cs/queues.html",
        {
            "summaries": selectors.exception_queue_summaries(scope=scope),
            "exceptions": list(exceptions),
            "kind": kind,
            "mine": mine,
            "now": timezone.now(),
        },
    )


@require_GET
@cs_required
def suppressions(request: HttpRequest) -> HttpResponse:
    """Addresses that bounced hard, complained or cannot receive SMS: nothing is sent to them."""
    return render(request, "cs/suppressions.html", {"rows": selectors.suppression_list()})


@cs_required
@require_GET
def courier_claims(request: HttpRequest) -> HttpResponse:
    """The courier-claim queue: buyers' "not received" claims on protected orders whose
    parcels have the courier's POD, taken up with the courier (the seller is not held)."""
    status = selectors.courier_claim_tab(request.GET.get("status"))
    claims = selectors.courier_claims(scope=Scope.marketplace(), status=status)[:200]
    return render(request, "cs/courier_claims.html",
                  {"claims": list(claims), "status": status, "now": timezone.now()})  # fmt: skip
