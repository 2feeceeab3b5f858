"""Who may read `/metrics`: a bearer token from anywhere, or an address inside METRICS_ALLOWED_NETWORKS.

The metrics name every route, dependency and error rate; outside development they are for the
monitoring network only. The client address is the one the trusted-proxy rules produced, so behind a
configured proxy it is the real client, never the proxy itself.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request

from app.config import Settings


def metrics_allowed(request: Request, settings: Settings) -> bool:
    if settings.metrics_token:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(),
                                                              settings.metrics_token.encode()):
            return True
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a unix socket or a test client without an address: only the token opens it
    return any(address in network for network in settings.metrics_networks)
