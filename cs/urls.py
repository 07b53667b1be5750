from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from cs import views

app_name = "cs"

urlpatterns = [
    # The CS console (staff with tracking.use_cs_console).
    path("cs/", views.search, name="search"),
    path("cs/exceptions/", views.queues, name="queues"),
    path("cs/suppressions/", views.suppressions, name="suppressions"),
    path("cs/courier-claims/", views.courier_claims, name="courier-claims"),
    path("cs/shipments/<id:shipment_id>/", views.shipment_detail, name="shipment"),
    path("cs/shipments/<id:shipment_id>/notes/", views.shipment_note, name="note"),
    path("cs/shipments/<id:shipment_id>/resync/", views.shipment_resync, name="resync"),
    path("cs/shipments/<id:shipment_id>/carrier/", views.shipment_carrier, name="carrier"),
    path("cs/exceptions/<id:exception_id>/assign/", views.exception_assign, name="assign"),
    path("cs/exceptions/<id:exception_id>/resolve/", views.exception_resolve, name="resolve"),
]
