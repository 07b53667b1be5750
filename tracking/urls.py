from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from tracking import cs_views, views, webhooks

urlpatterns = [
    path("webhooks/couriers/<slug:carrier>/", webhooks.carrier_push, name="carrier-push"),
    # Buyer tracking pages (public: the token is the key). tracking/links.py builds these URLs.
    path("t/<str:token>/", views.order_page, name="tracking-order"),
    path("t/<str:token>/live/", views.order_live, name="tracking-order-live"),
    path("t/s/<str:token>/", views.shipment_page, name="tracking-shipment"),
    path("t/s/<str:token>/live/", views.shipment_live, name="tracking-shipment-live"),
    path("track/", views.lookup, name="tracking-lookup"),
    path("track/language/", views.language_choose, name="tracking-language"),
    # The CS console (staff with tracking.use_cs_console).
    path("cs/", cs_views.search, name="cs-search"),
    path("cs/exceptions/", cs_views.queues, name="cs-queues"),
    path("cs/shipments/<id:shipment_id>/", cs_views.shipment_detail, name="cs-shipment"),
    path("cs/shipments/<id:shipment_id>/notes/", cs_views.shipment_note, name="cs-note"),
    path("cs/shipments/<id:shipment_id>/resync/", cs_views.shipment_resync, name="cs-resync"),
    path("cs/shipments/<id:shipment_id>/carrier/", cs_views.shipment_carrier, name="cs-carrier"),
    path("cs/exceptions/<id:exception_id>/assign/", cs_views.exception_assign, name="cs-assign"),
    path("cs/exceptions/<id:exception_id>/resolve/", cs_views.exception_resolve, name="cs-resolve"),
]
