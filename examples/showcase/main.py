"""ASGI application: chanspec showcase.

Run it with ``uvicorn examples.showcase.main:app``. Channel layers run in memory unless
``REDIS_URL`` is set. This file was written once by chanspec and is yours to change.
"""

from chanspec.runtime import create_app

from .generated.document import METADATA
from .generated.layers import LAYERS
from .generated.routing import CONSUMERS, ROUTES
from .page import ROUTES as PAGE_ROUTES  # the showcase page at /showcase/ (and / redirects)

__all__ = ["app"]

app = create_app(
    ROUTES, layers=LAYERS, metadata=METADATA, consumers=CONSUMERS, extra_routes=PAGE_ROUTES
)
