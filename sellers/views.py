"""The seller portal: what a seller's own staff see and edit. Every view works on the seller of
the logged-in member (no seller id in any URL), so one seller can never reach another's data."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from notifications.selectors import rulebook_load
from notifications.services import rule_keys, seller_notification_rules_set
from notifications.services.rules import RULE_CHANNELS
from notifications.triggers import Trigger
from sellers.forms import BRANDING_FIELDS, BrandingForm
from sellers.models import Seller, SellerBranding
from sellers.services import seller_branding_update


def _member_seller(request: HttpRequest) -> Seller:
    membership = getattr(request.user, "seller_membership", None)
    if membership is None:
        raise PermissionDenied("This page is for sellers' staff.")
    return membership.seller


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    return redirect("sellers:branding")


@login_required
def branding_edit(request: HttpRequest) -> HttpResponse:
    seller = _member_seller(request)
    branding = SellerBranding.objects.filter(seller=seller).first()
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
