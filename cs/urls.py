from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from cs import views

urlpatterns = [
    # The CS console (staff with tracking.use_cs_console).
    path("cs/", views.search, name="cs-search"),
    path("cs/exceptions/", views.queues, name="cs-queues"),
    path("cs/shipments/<id:shipment_id>/", views.shipment_detail, name="cs-shipment"),
    path("cs/shipments/<id:shipment_id>/notes/", views.shipment_note, name="cs-note"),
    path("cs/shipments/<id:shipment_id>/resync/", views.shipment_resync, name="cs-resync"),
    path("cs/shipments/<id:shipment_id>/carrier/", views.shipment_carrier, name="cs-carrier"),
    path("cs/exceptions/<id:exception_id>/assign/", views.exception_assign, name="cs-assign"),
    path("cs/exceptions/<id:exception_id>/resolve/", views.exception_resolve, name="cs-resolve"),
]
