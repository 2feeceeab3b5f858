"""`python -m app`: serve with uvicorn on the configured host and port."""

import uvicorn

from app.config import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run("app.main:create_app", factory=True, host=settings.host, port=settings.port,
                log_config=None,
                # Proxy headers are handled in create_app from TRUSTED_PROXIES (uvicorn's own would trust loopback).
                proxy_headers=False, timeout_graceful_shutdown=10,
                # Larger WebSocket frames are refused (close 1009) before they are buffered whole.
                ws_max_size=settings.ws_max_frame_bytes)


if __name__ == "__main__":
    main()
