"""The instance's public documents: who it is (the well-known document) and whom it knows (Zold's /remotes)."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from federation import documents, selectors
from federation.services.scores import own_score


@require_GET
def well_known(request: HttpRequest) -> JsonResponse:
    if not settings.INSTANCE_URL:
        error = {"code": "federation_off", "message": "This instance does not federate (INSTANCE_URL is not set)."}
        return JsonResponse({"error": error}, status=404)
    score = own_score()
    document = documents.own_document(score=score.to_dict() if score else None)
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


@require_GET
def remotes(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"remotes": selectors.remotes_listed()})
