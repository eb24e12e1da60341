from rest_framework.routers import SimpleRouter

from reviews.api import views

router = SimpleRouter()
router.register("campaigns", views.CampaignViewSet, basename="review-campaign")
router.register("items", views.ReviewItemViewSet, basename="review-item")

urlpatterns = router.urls
