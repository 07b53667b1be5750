from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from tracking.api import views

urlpatterns = [
    path("carriers/", views.CarrierListApi.as_view(), name="api-carriers"),
    path("carriers/detect", views.CarrierDetectApi.as_view(), name="api-carriers-detect"),
    path("shipments/", views.ShipmentListCreateApi.as_view(), name="api-shipments"),
    path(
        "shipments/<id:shipment_id>/",
        views.ShipmentDetailApi.as_view(),
        name="api-shipment-detail",
    ),
    path(
        "shipments/<id:shipment_id>/pod/",
        views.ShipmentPodUploadApi.as_view(),
        name="api-shipment-pod",
    ),
    path(
        "shipments/<id:shipment_id>/resync/",
        views.ShipmentResyncApi.as_view(),
        name="api-shipment-resync",
    ),
    path(
        "orders/<id:order_id>/tracking/",
        views.OrderTrackingApi.as_view(),
        name="api-order-tracking",
    ),
]
