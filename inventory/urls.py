from django.urls import path

from inventory.views import identities

app_name = "inventory"

urlpatterns = [
    path("identities/", identities.identity_list, name="identity-list"),
    path("identities/<int:pk>/", identities.identity_detail, name="identity-detail"),
]
