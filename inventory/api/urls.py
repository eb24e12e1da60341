from rest_framework.routers import DefaultRouter

from inventory.api import views

router = DefaultRouter()
router.register("identities", views.IdentityViewSet, basename="identity")
router.register("sources", views.SourceViewSet, basename="source")
router.register("runs", views.DiscoveryRunViewSet, basename="run")
router.register("findings", views.FindingViewSet, basename="finding")

urlpatterns = router.urls
