from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from tracking.api import views

app_name = "tracking-api"

urlpatterns = [
    path("carriers/", views.CarrierListApi.as_view(), name="carriers"),
    path("carriers/detect", views.CarrierDetectApi.as_view(), name="carriers-detect"),
    path("shipments/", views.ShipmentListCreateApi.as_view(), name="shipments"),
    path("events/", views.EventListApi.as_view(), name="events"),
    path(
        "shipments/<id:shipment_id>/",
        views.ShipmentDetailApi.as_view(),
        name="shipment-detail",
    ),
    path(
        "shipments/<id:shipment_id>/pod/",
        views.ShipmentPodUploadApi.as_view(),
        name="shipment-pod",
    ),
    path(
        "shipments/<id:shipment_id>/resync/",
        views.ShipmentResyncApi.as_view(),
        name="shipment-resync",
    ),
    path(
        "orders/<id:order_id>/tracking/",
        views.OrderTrackingApi.as_view(),
        name="order-tracking",
    ),
]
