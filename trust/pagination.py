from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.utils.urls import replace_query_param

from bank.errors import InvalidInput

DEFAULT_PAGE = 50
MAX_PAGE = 200


def _positive_int(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(name, ["This must be a whole number above zero."])
    return int(raw)


def paginate(request: Request, queryset, serializer: type[Serializer], *, key: str, context: dict | None = None) -> Response:
    """Keyset pagination, newest first: ``{key: [...], next}`` where ``next`` continues before the last id."""
    limit = min(_positive_int(request, "limit", DEFAULT_PAGE), MAX_PAGE)
    before = _positive_int(request, "before", None)
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    page = list(queryset.order_by("-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    next_url = replace_query_param(request.build_absolute_uri(), "before", page[-1].pk) if more else None
    return Response({key: serializer(page, many=True, context=context or {}).data, "next": next_url})
