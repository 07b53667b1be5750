from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from payouts import views
from payouts.api import views as api

app_name = "payouts"

urlpatterns = [
    path("finance/", views.console, name="console"),
    path("finance/export.csv", views.payouts_csv, name="export-csv"),
    path("finance/audit.csv", views.audit_csv, name="audit-csv"),
    path("finance/payouts/<id:payout_id>/", views.payout_detail, name="payout-detail"),
    path("finance/payouts/<id:payout_id>/audit.csv", views.audit_csv, name="payout-audit-csv"),
    path(
        "finance/payouts/<id:payout_id>/<slug:action>/",
        views.payout_action,
        name="payout-action",
    ),
    path("finance/batches/", views.batch_start, name="batch-start"),
    path("finance/courier-claims/", views.courier_claims, name="courier-claims"),
    path("finance/batches/<id:batch_id>/", views.batch_status, name="batch-status"),
    path("api/v1/payouts/", api.PayoutListOpenApi.as_view(), name="api-payouts"),
    path(
        "api/v1/payouts/orders/<id:order_id>/",
        api.PayoutForOrderApi.as_view(),
        name="api-payout-order",
    ),
    path(
        "api/v1/payouts/orders/<id:order_id>/receipt-confirmed/",
        api.ReceiptConfirmApi.as_view(),
        name="api-payout-receipt",
    ),
    path(
        "api/v1/payouts/orders/<id:order_id>/claims/",
        api.ClaimOpenApi.as_view(),
        name="api-payout-claim-open",
    ),
    path(
        "api/v1/payouts/orders/<id:order_id>/claims/close/",
        api.ClaimCloseApi.as_view(),
        name="api-payout-claim-close",
    ),
    path(
        "api/v1/payouts/orders/<id:order_id>/cancel/",
        api.PayoutCancelApi.as_view(),
        name="api-payout-cancel",
    ),
]
