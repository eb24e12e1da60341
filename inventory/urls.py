from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("identities/", views.identity_list, name="identity-list"),
    path("identities/<int:pk>/", views.identity_detail, name="identity-detail"),
]
