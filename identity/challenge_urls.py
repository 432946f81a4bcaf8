from django.urls import path

from identity import challenge_apis

app_name = "identity-challenges"

urlpatterns = [
    path("challenge", challenge_apis.ChallengeApi.as_view(), name="challenge"),
    path("challenges", challenge_apis.ChallengesApi.as_view(), name="challenges"),
    path("challenges/<int:challenge_id>/solve", challenge_apis.SolveApi.as_view(), name="challenge-solve"),
    path("issued-challenges", challenge_apis.IssuedChallengesApi.as_view(), name="issued-challenges"),
    path("incoming-challenges", challenge_apis.IncomingChallengesApi.as_view(), name="incoming-challenges"),
    path("heartbeat", challenge_apis.HeartbeatApi.as_view(), name="heartbeat"),
]
