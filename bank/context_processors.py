from django.http import HttpRequest


def community(request: HttpRequest) -> dict:
    return {"community": getattr(request, "community", None)}
