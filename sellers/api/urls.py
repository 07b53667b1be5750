from django.urls import path

from sellers.api import views

urlpatterns = [
    path("orders/", views.OrderListCreateApi.as_view(), name="api-orders"),
    path("sellers/shipments/", views.ShipmentConfirmApi.as_view(), name="api-sellers-confirm"),
    path("sellers/recommendations", views.RecommendationApi.as_view(), name="api-recommendations"),
    path("sellers/performance", views.PerformanceApi.as_view(), name="api-performance"),
    path("sellers/sla", views.SlaApi.as_view(), name="api-sla"),
]
