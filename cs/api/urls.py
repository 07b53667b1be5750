from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from cs.api import views

app_name = "cs-api"

urlpatterns = [
    # The CRM API (marketplace tokens only): cs/api/views.py
    path("cs/search", views.CsSearchApi.as_view(), name="search"),
    path("cs/shipments/<id:shipment_id>/", views.CsShipmentApi.as_view(), name="shipment"),
    path(
        "cs/shipments/<id:shipment_id>/notes/",
        views.CsShipmentNotesApi.as_view(),
        name="notes",
    ),
    path("cs/exceptions/", views.CsExceptionListApi.as_view(), name="exceptions"),
    path("cs/courier-claims/", views.CsCourierClaimListApi.as_view(), name="courier-claims"),
]
