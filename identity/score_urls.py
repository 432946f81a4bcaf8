from django.urls import path

from identity import vote_apis

app_name = "reputation"

urlpatterns = [
    path("user/reputation", vote_apis.ReputationApi.as_view(), name="reputation"),
]
