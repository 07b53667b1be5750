from django.urls import path

from sellers.api import views

app_name = "sellers-api"

urlpatterns = [
    path("orders/", views.OrderListCreateApi.as_view(), name="orders"),
    path("sellers/shipments/", views.ShipmentConfirmApi.as_view(), name="confirm"),
    path("sellers/recommendations", views.RecommendationApi.as_view(), name="recommendations"),
    path("sellers/performance", views.PerformanceApi.as_view(), name="performance"),
    path("sellers/sla", views.SlaApi.as_view(), name="sla"),
]
