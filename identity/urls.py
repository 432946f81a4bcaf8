"""A community's identity page and the identity API (``identity:api:*``), under ``c/<slug>/``."""

from django.urls import include, path

from identity import views
from identity.apis import challenges, identities, votes

app_name = "identity"

api = [
    path("identity/status", identities.StatusApi.as_view(), name="status"),
    path("identity/identities", identities.IdentitiesApi.as_view(), name="identities"),
    path("identity/my-identity", identities.MyIdentityApi.as_view(), name="my-identity"),
    path("identity/register", identities.IdentityRegisterApi.as_view(), name="register"),
    path("identity/authenticate", identities.AuthenticateApi.as_view(), name="authenticate"),
    path("identity/keys/rotate", identities.KeyRotateApi.as_view(), name="key-rotate"),
    path("identity/receipt-key", identities.ReceiptKeyApi.as_view(), name="receipt-key"),
    path("identity/challenge", challenges.ChallengeApi.as_view(), name="challenge"),
    path("identity/challenges", challenges.ChallengesApi.as_view(), name="challenges"),
    path("identity/challenges/<int:challenge_id>/solve", challenges.SolveApi.as_view(), name="challenge-solve"),
    path("identity/issued-challenges", challenges.IssuedChallengesApi.as_view(), name="issued-challenges"),
    path("identity/incoming-challenges", challenges.IncomingChallengesApi.as_view(), name="incoming-challenges"),
    path("identity/heartbeat", challenges.HeartbeatApi.as_view(), name="heartbeat"),
    path("identity/propositions", votes.PropositionsApi.as_view(), name="propositions"),
    path("identity/propositions/<int:proposition_id>", votes.PropositionDetailApi.as_view(), name="proposition"),
    path("identity/propositions/<int:proposition_id>/vote", votes.VoteApi.as_view(), name="vote"),
    # The Civil Money credit score, under the seed's name.
    path("user/reputation", votes.CreditScoreApi.as_view(), name="credit-score"),
]

urlpatterns = [
    path("identity/", views.page, name="page"),
    path("identity/propositions/<int:proposition_id>/vote/", views.vote, name="vote"),
    path("api/", include((api, "api"))),
]
