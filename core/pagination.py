"""Keyset pagination for the money API's lists: stable under inserts, no page numbers to drift."""

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.utils.urls import replace_query_param

from core.errors import InvalidInput
from core.numbers import number_schema, query_number

DEFAULT_PAGE = 50
MAX_PAGE = 200
# The page size an answer used, as a response header: a larger ``limit`` than MAX_PAGE gets MAX_PAGE and says so.
LIMIT_HEADER = "Page-Limit"
LIMIT_PARAMETER = OpenApiParameter(
    "limit",
    number_schema(),
    description=f"Entries per page (default {DEFAULT_PAGE}); more than {MAX_PAGE} is taken as {MAX_PAGE}. "
    f"The answer's `{LIMIT_HEADER}` header says the size it used.",
)
PAGE_PARAMETERS = [
    LIMIT_PARAMETER,
    OpenApiParameter(
        "before", number_schema(), description="Start after the entry with this id (the `next` link sets it)."
    ),
]


def page_limit(request: Request) -> int:
    """``?limit=``: entries per page, at most ``MAX_PAGE``; the answer says the size in ``Page-Limit``.

    Through the view's ``headers``, which DRF puts on whatever the view answers, so lists that build their
    own answer (the ledger's) say it too.
    """
    limit = min(query_number(request, "limit") or DEFAULT_PAGE, MAX_PAGE)
    request.parser_context["view"].headers[LIMIT_HEADER] = str(limit)
    return limit


def _before(queryset: QuerySet, newest_by: str, before: int) -> Q:
    """Rows after the row with id ``before`` in the list's order (``newest_by``, then id, both descending)."""
    if newest_by == "pk":
        return Q(pk__lt=before)
    cursor = queryset.filter(pk=before).values_list(newest_by, flat=True).first()
    if cursor is None:
        raise InvalidInput("before", ["This is not the id of an entry of this list."])
    return Q(**{f"{newest_by}__lt": cursor}) | Q(**{newest_by: cursor, "pk__lt": before})


def paginate(
    request: Request,
    queryset: QuerySet,
    serializer: type[Serializer],
    *,
    key: str,
    newest_by: str = "pk",
    context: dict | None = None,
) -> Response:
    """Newest first by ``newest_by`` (ties by id): ``{key: [...], next}``; ``next`` continues after the last entry.

    ``limit`` sets the page size (at most ``MAX_PAGE``), ``before`` the id the page starts after.
    """
    limit = page_limit(request)
    before = query_number(request, "before")
    if before is not None:
        queryset = queryset.filter(_before(queryset, newest_by, before))
    page = list(queryset.order_by(f"-{newest_by}", "-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    next_url = replace_query_param(request.build_absolute_uri(), "before", page[-1].pk) if more else None
    return Response({key: serializer(page, many=True, context=context or {}).data, "next": next_url})
