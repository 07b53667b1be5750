"""The seller portal: what a seller's own staff see and edit. Every view works on the seller of
the logged-in member (no seller id in any URL), so one seller can never reach another's data."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.access import Scope
from core.csvexport import csv_response
from core.errors import ApplicationError, NotFound
from notifications.selectors import rulebook_load
from notifications.services import rule_keys, seller_notification_rules_set
from notifications.services.rules import RULE_CHANNELS
from notifications.triggers import Trigger
from payouts import selectors as payouts_selectors
from sellers import selectors
from sellers.charts import transit_histogram_svg, trend_svg
from sellers.forms import (
    BRANDING_FIELDS,
    BrandingForm,
    ShipmentConfirmForm,
    TrackingUploadForm,
)
from sellers.metrics import Totals, lane_parse
from sellers.models import OrderProtection, Seller, ServiceLevel
from sellers.protection import ADVICE
from sellers.selectors import Period
from sellers.services import seller_branding_update
from sellers.uploads import shipment_confirm, tracking_upload_create


def _member_seller(request: HttpRequest) -> Seller:
    membership = getattr(request.user, "seller_membership", None)
    if membership is None:
        raise PermissionDenied("This page is for sellers' staff.")
    return membership.seller


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    return redirect("sellers:performance")


@login_required
def branding_edit(request: HttpRequest) -> HttpResponse:
    seller = _member_seller(request)
    branding = selectors.seller_branding_get(scope=Scope.for_seller(seller.id), seller_id=seller.id)
    form = BrandingForm.for_branding(branding, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        seller_branding_update(
            seller=seller, actor=request.user,
            **{name: form.cleaned_data[name] or "" for name in BRANDING_FIELDS},
        )  # fmt: skip
        messages.success(request, "Your tracking page branding is saved.")
        return redirect("sellers:branding")
    return render(request, "sellers/branding.html", {"form": form, "seller": seller})


@login_required
def notifications_edit(request: HttpRequest) -> HttpResponse:
    """Which status changes tell the seller's buyers (email, SMS) and the seller (webhook)."""
    seller = _member_seller(request)
    if request.method == "POST":
        chosen = {key: f"{key[0]}:{key[1]}:{key[2]}" in request.POST for key in rule_keys()}
        seller_notification_rules_set(seller=seller, enabled=chosen, actor=request.user)
        messages.success(request, "Your notification choices are saved.")
        return redirect("sellers:notifications")
    book = rulebook_load(seller_ids=[seller.id])
    rows = [
        {
            "trigger": Trigger(trigger).label,
            "cells": [
                {
                    "name": f"{trigger}:{audience}:{channel}",
                    "on": book.enabled(
                        seller_id=seller.id, trigger=trigger, audience=audience, channel=channel
                    ),  # fmt: skip
                }
                for audience, channel in RULE_CHANNELS
            ],
        }
        for trigger in Trigger.values
    ]
    return render(request, "sellers/notifications.html", {"seller": seller, "rows": rows})


# --- Dashboards -------------------------------------------------------------------------------


def _period(request: HttpRequest) -> tuple[Period, str | None]:
    try:
        return Period.parse(request.GET.get("from"), request.GET.get("to")), None
    except ApplicationError as error:
        return Period.last_days(90), error.message


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


PERFORMANCE_HEADER = [
    "courier", "destination", "shipments", "delivery_rate_pct", "median_transit_bd",
    "p90_transit_bd", "first_scan_lag_h", "on_time_pct", "failed_attempt_pct", "exception_pct",
    "return_pct", "marketplace_shipments", "marketplace_on_time_pct", "marketplace_median_bd",
    "marketplace_p90_bd",
]  # fmt: skip


def _performance_csv_row(row) -> list[object]:
    mine, market = row.seller, row.marketplace or Totals()
    return [
        row.carrier, row.destination or "all", mine.shipments, _pct(mine.delivery_rate),
        mine.median_transit_days, mine.p90_transit_days, _num(mine.first_scan_lag_hours),
        _pct(mine.on_time_rate), _pct(mine.failed_attempt_rate), _pct(mine.exception_rate),
        _pct(mine.return_rate), market.shipments, _pct(market.on_time_rate),
        market.median_transit_days, market.p90_transit_days,
    ]  # fmt: skip


@login_required
def performance(request: HttpRequest) -> HttpResponse:
    """Courier performance: the seller's couriers side by side on one destination (or all),
    each beside the marketplace's figure for the same courier and lane, and per destination."""
    seller = _member_seller(request)
    scope = Scope.from_request(request)
    period, error = _period(request)
    destination, lane_text = None, request.GET.get("destination", "")
    if lane_text:
        try:
            destination = lane_parse(lane_text)
        except ValueError as bad:
            error, lane_text = str(bad), ""
    couriers = selectors.courier_performance(
        scope=scope, seller_id=seller.id, period=period, destination=destination
    )
    lanes = selectors.courier_performance(
        scope=scope, seller_id=seller.id, period=period, destination=destination,
        by_destination=True,
    )  # fmt: skip
    if _wants_csv(request):
        table = lanes if request.GET.get("table") == "lanes" else couriers
        return csv_response(
            "courier-performance.csv", PERFORMANCE_HEADER, map(_performance_csv_row, table)
        )
    context = {
        "seller": seller,
        "period": period,
        "error": error,
        "destination": lane_text.upper(),
        "destinations": selectors.seller_destinations(
            scope=scope, seller_id=seller.id, period=period
        ),
        "couriers": couriers,
        "lanes": lanes[:100],
        "chart": transit_histogram_svg([(c.carrier, c.seller) for c in couriers]),
        "accounts": _courier_accounts(scope, seller.id, period)[:100],
        "query": request.GET.urlencode(),
    }
    return render(request, "sellers/performance.html", context)


@login_required
def sla(request: HttpRequest) -> HttpResponse:
    """The seller's standing against the marketplace SLA, with trends and drill-downs."""
    seller = _member_seller(request)
    period, error = _period(request)
    figures = selectors.seller_sla(scope=Scope.from_request(request), seller_id=seller.id,
                                   period=period)  # fmt: skip
    if _wants_csv(request):
        header = ["metric", "value_pct", "target_pct", "target_is", "meets_target"]
        rows = [[f.metric, _pct(f.value), _pct(f.target), f.direction, f.meets_target]
                for f in figures]  # fmt: skip
        for f in figures:
            rows += [[f"{f.metric} week {week}", _pct(v), _pct(f.target), f.direction, ""]
                     for week, v in f.trend]  # fmt: skip
        return csv_response("sla.csv", header, rows)
    cards = [
        {
            "figure": f,
            "chart": trend_svg(f.trend, target=f.target, direction=f.direction, label=f.label),
        }  # fmt: skip
        for f in figures
    ]
    return render(request, "sellers/sla.html", {"seller": seller, "period": period,
                                                "error": error, "cards": cards,
                                                "query": request.GET.urlencode()})  # fmt: skip


SLA_DRILLDOWN_PAGE = 50


@login_required
def sla_drilldown(request: HttpRequest, metric: str) -> HttpResponse:
    """The shipments behind one SLA figure (those that pull it down), newest first."""
    seller = _member_seller(request)
    period, error = _period(request)
    try:
        shipments = selectors.sla_shipments(
            scope=Scope.from_request(request), seller_id=seller.id, period=period, metric=metric
        )
    except NotFound:
        raise Http404("No such SLA figure.") from None
    header = ["tracking_number", "courier", "order", "confirmed_at", "status", "delivered_at",
              "promised_date", "expected_ship_date"]  # fmt: skip

    def row(s):
        return [s.tracking_number, s.carrier, s.order.reference, s.created_at, s.status,
                s.delivered_at, s.order.promised_delivery_date,
                s.order.expected_ship_date]  # fmt: skip

    if _wants_csv(request):
        return csv_response(f"sla-{metric}.csv", header, (row(s) for s in shipments.iterator()))
    page = Paginator(shipments, SLA_DRILLDOWN_PAGE).get_page(request.GET.get("page"))
    context = {"seller": seller, "period": period, "error": error, "page": page,
               "metric": metric, "label": selectors.SLA_METRICS[metric][0],
               "query": request.GET.urlencode()}  # fmt: skip
    return render(request, "sellers/sla_drilldown.html", context)


@login_required
def recommendations(request: HttpRequest) -> HttpResponse:
    """Which courier to choose for a lane, from the marketplace's recent deliveries."""
    seller = _member_seller(request)
    scope = Scope.from_request(request)
    error, result = None, None
    destination_text = request.GET.get("destination", "").strip()
    service_level = request.GET.get("service_level") or ServiceLevel.STANDARD
    origin = request.GET.get("origin")
    if origin is None:
        origin = selectors.seller_origin_region(scope=scope, seller_id=seller.id)
    if service_level not in ServiceLevel.values:
        error, service_level = "Choose a service level from the list.", ServiceLevel.STANDARD
    if destination_text and not error:
        try:
            destination = lane_parse(destination_text)
        except ValueError as bad:
            error = str(bad)
        else:
            result = selectors.courier_recommendation(
                scope=scope, origin_region=origin.strip().upper()[:3], destination=destination,
                service_level=service_level,
            )  # fmt: skip
    if result is not None and _wants_csv(request):
        header = ["rank", "courier", "confidence", "judged_parcels", "on_time_pct",
                  "on_time_lower_bound_pct", "median_transit_bd", "p90_transit_bd"]  # fmt: skip
        rows = [[i if o.enough_data else "", o.carrier, o.confidence, o.totals.on_time_eligible,
                 _pct(o.totals.on_time_rate), _pct(o.on_time_lower_bound),
                 o.totals.median_transit_days, o.totals.p90_transit_days]
                for i, o in enumerate([*result.ranked, *result.not_enough_data],
                                      start=1)]  # fmt: skip
        return csv_response("courier-recommendation.csv", header, rows)
    destinations = selectors.seller_destinations(
        scope=scope, seller_id=seller.id, period=Period.last_days(90)
    )
    context = {"seller": seller, "error": error, "result": result, "origin": origin,
               "destination": destination_text.upper(), "service_level": service_level,
               "service_levels": ServiceLevel.choices, "destinations": destinations,
               "min_sample": settings.RECOMMENDATION_MIN_SAMPLE,
               "query": request.GET.urlencode()}  # fmt: skip
    return render(request, "sellers/recommendations.html", context)


@login_required
def marketplace_sla(request: HttpRequest) -> HttpResponse:
    """Marketplace staff: every seller ranked on the SLA, those below target flagged."""
    if not request.user.is_staff:
        raise PermissionDenied("This page is for marketplace staff.")
    period, error = _period(request)
    standings = selectors.marketplace_sla_ranking(scope=Scope.marketplace(), period=period)
    if _wants_csv(request):
        header = ["rank", "seller", "shipments", "valid_tracking_pct", "on_time_pct",
                  "on_time_protected_pct", "late_shipment_pct", "delivery_rate_pct",
                  "below_target"]  # fmt: skip
        rows = [[i, s.seller.name, s.totals.shipments, _pct(s.totals.valid_tracking_rate),
                 _pct(s.totals.on_time_rate), _pct(s.totals.on_time_rate_protected),
                 _pct(s.totals.late_shipment_rate),
                 _pct(s.totals.delivery_rate), "; ".join(s.breaches)]
                for i, s in enumerate(standings, start=1)]  # fmt: skip
        return csv_response("marketplace-sla.csv", header, rows)
    context = {"period": period, "error": error, "standings": standings,
               "targets": settings.SELLER_SLA_TARGETS,
               "protection_on": settings.SELLER_PROTECTION["on_time_excludes_protected"],
               "couriers": _courier_accounts(Scope.marketplace(), None, period)[:100],
               "query": request.GET.urlencode()}  # fmt: skip
    return render(request, "sellers/marketplace_sla.html", context)


def _courier_accounts(scope: Scope, seller_id: int | None, period) -> list:
    """Couriers held to account on each lane: the rollups' protected late parcels beside the
    claims payouts routed to the courier (the seller's own, or the marketplace's)."""
    start, end = selectors.period_bounds(period)
    claims = payouts_selectors.courier_claim_counts(start=start, end=end, seller_id=seller_id)
    return selectors.courier_accountability(
        scope=scope, seller_id=seller_id, period=period, claims=claims
    )


PROTECTION_PAGE = 50


@login_required
def protection(request: HttpRequest) -> HttpResponse:
    """Delivery performance protection: the share of the seller's orders it covers, and each
    order it does not, with the reason and what to do about it."""
    seller = _member_seller(request)
    scope = Scope.from_request(request)
    period, error = _period(request)
    share = selectors.protection_share(scope=scope, seller_id=seller.id, period=period)
    orders = selectors.unprotected_orders(scope=scope, seller_id=seller.id, period=period)
    labels = dict(OrderProtection.Reason.choices)

    def explained(row: OrderProtection) -> dict:
        failed = [
            {"parcel": parcel["tracking_number"], "carrier": parcel["carrier"],
             "detail": condition["detail"]}
            for parcel in row.evidence
            for condition in parcel["conditions"]
            if condition["ok"] is False
        ]  # fmt: skip
        return {"order": row.order, "reasons": [(labels.get(r, r), ADVICE.get(r, ""))
                                                for r in row.reasons],
                "failed": failed}  # fmt: skip

    if _wants_csv(request):
        header = ["order", "created_at", "reasons", "evidence", "what_to_do"]
        rows = (
            [r.order.reference, r.order.created_at, "; ".join(r.reasons),
             "; ".join(f"{f['parcel']}: {f['detail']}" for f in e["failed"]),
             " ".join(advice for _label, advice in e["reasons"])]
            for r in orders.iterator() for e in [explained(r)]
        )  # fmt: skip
        return csv_response("protection.csv", header, rows)
    page = Paginator(orders, PROTECTION_PAGE).get_page(request.GET.get("page"))
    context = {"seller": seller, "period": period, "error": error, "share": share,
               "page": page, "rows": [explained(r) for r in page],
               "window_hours": settings.SELLER_PROTECTION["confirm_within_hours"],
               "query": request.GET.urlencode()}  # fmt: skip
    return render(request, "sellers/protection.html", context)


# --- Tracking upload --------------------------------------------------------------------------


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """Confirm shipments: one order in a form, or a CSV of many processed in the background."""
    seller = _member_seller(request)
    scope = Scope.from_request(request)
    confirm_form = ShipmentConfirmForm(request.POST if "confirm" in request.POST else None)
    upload_form = TrackingUploadForm(
        request.POST if "upload" in request.POST else None,
        request.FILES if "upload" in request.POST else None,
    )
    if request.method == "POST" and "confirm" in request.POST and confirm_form.is_valid():
        data = confirm_form.cleaned_data
        try:
            order = selectors.order_by_reference(scope=scope, reference=data["order"])
            shipment, created = shipment_confirm(
                order=order, carrier=data["carrier"], tracking_number=data["tracking_number"],
                carrier_name=data["carrier_name"], actor=request.user,
            )  # fmt: skip
        except ApplicationError as error:
            confirm_form.add_error(
                error.field if error.field in confirm_form.fields else None, error.message
            )
        else:
            verb = "confirmed" if created else "was already confirmed"
            messages.success(
                request, f"Order {order.reference} {verb} with {shipment.tracking_number}."
            )
            return redirect("sellers:upload")
    if request.method == "POST" and "upload" in request.POST and upload_form.is_valid():
        file = upload_form.cleaned_data["file"]
        try:
            if file.size > settings.TRACKING_UPLOAD_MAX_BYTES:
                raise ApplicationError(
                    f"The file is larger than "
                    f"{settings.TRACKING_UPLOAD_MAX_BYTES // (1024 * 1024)} MB: split it."
                )
            created_upload = tracking_upload_create(
                seller=seller, filename=file.name, data=file.read(), actor=request.user
            )
        except ApplicationError as error:
            upload_form.add_error("file", error.message)
        else:
            return redirect("sellers:upload-detail", upload_id=created_upload.pk)
    context = {"seller": seller, "confirm_form": confirm_form, "upload_form": upload_form,
               "uploads": selectors.tracking_upload_list(scope=scope)[:10]}  # fmt: skip
    return render(request, "sellers/upload.html", context)


@login_required
def upload_detail(request: HttpRequest, upload_id: int) -> HttpResponse:
    """One upload's progress and errors; htmx polls the partial while it runs."""
    seller = _member_seller(request)
    try:
        item = selectors.tracking_upload_get(scope=Scope.from_request(request), upload_id=upload_id)
    except NotFound:
        raise Http404("No such upload.") from None
    if _wants_csv(request):
        return csv_response(f"upload-{item.pk}-errors.csv", ["line", "order", "error"],
                            ([e["line"], e["order"], e["error"]] for e in item.errors))  # fmt: skip
    template = "sellers/_upload_progress.html" if request.htmx else "sellers/upload_detail.html"
    return render(request, template, {"seller": seller, "upload": item})
