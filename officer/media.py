"""A server-side proxy for the citizen's WhatsApp photos.

The ticket keeps WhatsApp media ids. `GET {api_base}/{media_id}` with the access token
answers with a short-lived URL (JSON `url`, `mime_type`); fetching that URL with the same
token gives the bytes. The officer's browser never sees the token or the URL.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import aiohttp

# The same default as channels/whatsapp_output.py (not imported: that module pulls in Rasa).
DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"
MAX_MEDIA_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for images is 5 MB


class MediaUnavailable(Exception):
    """The photo could not be fetched (no token, expired id, Graph error, too large)."""


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str


class WhatsAppMedia:
    def __init__(self, access_token: Optional[str] = None, api_base_url: Optional[str] = None,
                 timeout_seconds: float = 15.0):
        self.access_token = access_token if access_token is not None else os.environ.get(
            "WHATSAPP_ACCESS_TOKEN", "")
        self.api_base_url = (api_base_url or os.environ.get("WHATSAPP_API_BASE_URL")
                             or DEFAULT_API_BASE_URL).rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def fetch(self, media_id: str) -> Media:
        if not self.access_token:
            raise MediaUnavailable("WHATSAPP_ACCESS_TOKEN is not set")
        if not media_id or not media_id.replace("_", "").replace("-", "").isalnum():
            raise MediaUnavailable(f"not a media id: {media_id!r}")
        headers = {"Authorization": f"Bearer {self.access_token}"}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout, headers=headers) as http:
                async with http.get(f"{self.api_base_url}/{media_id}") as response:
                    if response.status != 200:
                        raise MediaUnavailable(f"media lookup answered {response.status}")
                    info = await response.json(content_type=None)
                url = info.get("url") if isinstance(info, dict) else None
                if not url:
                    raise MediaUnavailable("media lookup gave no url")
                async with http.get(url) as response:
                    if response.status != 200:
                        raise MediaUnavailable(f"media download answered {response.status}")
                    if (response.content_length or 0) > MAX_MEDIA_BYTES:
                        raise MediaUnavailable("media too large")
                    content = await response.content.read(MAX_MEDIA_BYTES + 1)
                    if len(content) > MAX_MEDIA_BYTES:
                        raise MediaUnavailable("media too large")
                    content_type = (info.get("mime_type") or response.content_type
                                    or "application/octet-stream")
                    return Media(content, content_type)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise MediaUnavailable(f"{type(exc).__name__}: {exc}") from exc
