from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from nhigov import audit_views, compliance_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("inventory/", include("inventory.urls")),
    path("reviews/", include("reviews.urls")),
    path("api/reviews/", include("reviews.api.urls")),
    path("api/compliance/", compliance_views.ComplianceApiView.as_view(), name="api-compliance"),
    path("api/", include("inventory.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("audit/", audit_views.audit_log, name="audit-log"),
    path("audit/verify/", audit_views.audit_verify_now, name="audit-verify"),
    path("compliance/", compliance_views.compliance, name="compliance"),
]
