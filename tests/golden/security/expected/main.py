"""ASGI application: Secured chat.

Run it with ``uvicorn app.main:app``. Channel layers run in memory unless
``REDIS_URL`` is set. This file was written once by chanspec and is yours to change.
"""

from chanspec.runtime import create_app

from .generated.document import METADATA
from .generated.layers import LAYERS
from .generated.routing import CONSUMERS, ROUTES

__all__ = ["app"]

app = create_app(ROUTES, layers=LAYERS, metadata=METADATA, consumers=CONSUMERS)
