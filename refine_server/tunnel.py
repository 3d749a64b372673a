"""Expose the local port: an ngrok tunnel through pyngrok (``TUNNEL=ngrok``) or ``PUBLIC_URL``.

Blocking (pyngrok starts a process and talks to its local API): call it in a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from refine_server.settings import Settings

logger = logging.getLogger(__name__)


class TunnelError(RuntimeError):
    """The tunnel could not be opened."""


@dataclass
class Tunnel:
    """An open tunnel: its public URL, and how to close it."""

    public_url: str
    _close: Callable[[], None] = field(default=lambda: None, repr=False)

    def close(self) -> None:
        self._close()


def _pyngrok_config(settings: Settings):  # -> pyngrok.conf.PyngrokConfig
    from pyngrok import conf

    token = settings.ngrok_authtoken.get_secret_value() or None
    return conf.PyngrokConfig(
        ngrok_path=str(settings.ngrok_path) if settings.ngrok_path else None,
        config_path=str(settings.ngrok_config) if settings.ngrok_config else None,
        auth_token=token,
    )


def open_tunnel(settings: Settings, port: int) -> Tunnel:
    """Open the configured tunnel to ``127.0.0.1:port`` and return its public URL."""
    if settings.tunnel == "none":
        url = settings.public_url or f"http://{settings.host}:{port}"
        if not settings.public_url:
            logger.warning("TUNNEL=none and no PUBLIC_URL: announcing %s", url)
        return Tunnel(url)

    from pyngrok import ngrok
    from pyngrok.exception import PyngrokError

    if not settings.ngrok_authtoken.get_secret_value():
        raise TunnelError(
            "TUNNEL=ngrok needs NGROK_AUTHTOKEN (free at https://dashboard.ngrok.com)"
        )
    config = _pyngrok_config(settings)
    # The agent's own log lines would repeat every request at INFO.
    logging.getLogger("pyngrok.process.ngrok").setLevel(logging.WARNING)
    try:
        opened = ngrok.connect(f"http://127.0.0.1:{port}", pyngrok_config=config)
    except PyngrokError as exc:
        ngrok.kill(config)
        raise TunnelError(f"ngrok did not start: {exc}") from exc
    public_url = opened.public_url
    if not public_url:
        ngrok.kill(config)
        raise TunnelError("ngrok gave no public URL")

    def close() -> None:
        try:
            ngrok.disconnect(opened.public_url, pyngrok_config=config)
        except PyngrokError as exc:
            logger.warning("Closing the ngrok tunnel failed: %s", exc)
        finally:
            ngrok.kill(config)

    logger.info("ngrok tunnel %s → 127.0.0.1:%d", public_url, port)
    return Tunnel(public_url, close)
