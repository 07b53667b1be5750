from django.urls import path

from sellers.api import views

urlpatterns = [
    path("orders/", views.OrderListCreateApi.as_view(), name="api-orders"),
]
