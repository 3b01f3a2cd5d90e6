"""Connexion routing the spec's operations, without Connexion's per-request decorators.

Stock `AsyncApp` ends its stack in `AsyncOperation`, which builds a `StarletteDecorator`
on every request, and that decorator inspects the handler's signature, builds a
`ConnexionRequest`, looks for form data and files and maps parameters, again on every
request: ~130 µs of CPU for a handler that takes none (bench/PROFILE.md). Here the last
app of the stack looks the operation up by the `operation_id` that Connexion's
RoutingMiddleware attached from the spec, as stock Connexion does, and awaits the
function Connexion's resolver found for that operationId as a plain ASGI app.

`ReferenceApp.routed_entry()` is the stack from RoutingMiddleware inward, built at
start-up: the guard sends an admitted request there, past the error, exception and
Swagger UI layers, which have nothing to do for it (Swagger UI only serves its own
paths; the guard has answered every error itself).
"""

from __future__ import annotations

from typing import Any

from connexion import AsyncApp
from connexion.apps.abstract import AbstractApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import AbstractOperation
from connexion.options import SwaggerUIOptions
from starlette.types import ASGIApp, Receive, Scope, Send


class OperationApi(AsyncApi):  # type: ignore[misc]  # Connexion ships no type hints
    """One API's operations, each the resolved function itself (an ASGI callable)."""

    def make_operation(self, operation: AbstractOperation) -> Any:
        return operation.function


class OperationASGIApp(AsyncASGIApp):  # type: ignore[misc]
    api_cls = OperationApi


class ReferenceApp(AsyncApp):  # type: ignore[misc]
    """`AsyncApp` whose operations are called as ASGI apps, with no per-request decorator."""

    def __init__(self, import_name: str, **kwargs: Any) -> None:
        # AsyncApp.__init__ only creates the stock AsyncASGIApp before this same call.
        self._middleware_app = OperationASGIApp()
        AbstractApp.__init__(self, import_name, **kwargs)

    def routed_entry(self) -> ASGIApp:
        """Build the middleware stack now (not on the first request); return its routing layer."""
        middleware = self.middleware
        if middleware.middleware_stack is None:
            middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()
        routing = next(m for m in middleware.middleware_stack if isinstance(m, RoutingMiddleware))

        async def entry(scope: Scope, receive: Receive, send: Send) -> None:
            # As ConnexionMiddleware does: the routers raise their errors instead of answering.
            scope["app"] = middleware
            await routing(scope, receive, send)

        return entry


# Connexion's default stack without its security and request-validation middlewares:
# the guard does both (handlers/guard.py).
MIDDLEWARES = [
    ServerErrorMiddleware,
    ExceptionMiddleware,
    SwaggerUIMiddleware,
    RoutingMiddleware,
    LifespanMiddleware,
    ContextMiddleware,
]


def connexion_app(spec: dict[str, Any], base_path: str) -> ReferenceApp:
    """The spec's API, its JSON at `<base>/openapi.json` and Swagger UI at `<base>/ui`."""
    app = ReferenceApp(__name__, middlewares=MIDDLEWARES)
    app.add_api(
        spec,
        base_path=base_path,
        swagger_ui_options=SwaggerUIOptions(spec_path="/openapi.json", swagger_ui_path="/ui"),
    )
    return app
