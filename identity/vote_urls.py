from django.urls import path

from identity import vote_apis

app_name = "votes"

urlpatterns = [
    path("propositions", vote_apis.PropositionsApi.as_view(), name="propositions"),
    path("propositions/<int:proposition_id>", vote_apis.PropositionDetailApi.as_view(), name="proposition"),
    path("propositions/<int:proposition_id>/vote", vote_apis.VoteApi.as_view(), name="vote"),
]
