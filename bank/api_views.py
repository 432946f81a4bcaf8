"""The base of every API view of the platform: a request that changes state may carry an ``Idempotency-Key``."""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bank import idempotency


class ApiView(APIView):
    """The base of every API view: a request that changes state may carry an ``Idempotency-Key``."""

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # signed in and permitted: the key's scope is known
        method = request.method.lower()
        handler = getattr(self, method, None)  # None: dispatch answers 405
        if handler and request.method not in SAFE_METHODS and idempotency.HEADER in request.headers:

            def answered_once(request: Request, *args, **kwargs) -> Response:
                def handle() -> Response:
                    # As APIView.dispatch does: handle_exception answers what the API's exception handler
                    # knows (refusals are answers too, stored and replayed like successes) and re-raises
                    # the rest, so bugs propagate. A narrower catch would repeat that handler's list.
                    try:
                        return handler(request, *args, **kwargs)
                    except Exception as exc:  # noqa: BLE001 - handle_exception re-raises what is no answer
                        return self.handle_exception(exc)

                return idempotency.answer_once(request, handle)

            setattr(self, method, answered_once)  # dispatch calls the handler it finds on the view
