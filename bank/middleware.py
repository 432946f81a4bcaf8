import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port

from bank import selectors
from core.exception_handler import error_page

COMMUNITY_PATH = re.compile(r"^/c/(?P<slug>[^/]+)(?:/|$)")
# Paths that belong to the instance even when the request arrives on a community's own domain.
# Every page's header links to the dashboard and signs out at /logout/, whatever the host.
INSTANCE_PATHS = ("/admin/", "/static/", "/api/schema/", "/api/docs/", "/dashboard/", "/logout/")


class CommunityMiddleware:
    """Sets ``request.community`` from the ``/c/<slug>/`` prefix or from the Host header.

    A request on a community's own domain is served as if it had the ``/c/<slug>`` prefix, so
    every community URL resolves (and reverses) one way. An unknown community is a 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host_community = selectors.community_get_by_domain(domain=split_domain_port(request.get_host())[0])
        if host_community and not request.path_info.startswith(("/c/", *INSTANCE_PATHS)):
            request.path_info = f"/c/{host_community.slug}{request.path_info}"

        request.community = None
        match = COMMUNITY_PATH.match(request.path_info)
        if match:
            community = selectors.community_get_by_slug(slug=match["slug"])
            if community is None or (host_community and community != host_community):
                return error_page(request, "community_not_found", "There is no community at this address.", 404)
            request.community = community
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        # The slug was resolved into request.community above; views take the community from there.
        view_kwargs.pop("community_slug", None)
