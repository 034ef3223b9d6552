"""The HTTP webhook adapter: POST the notice as JSON to the hall's SMS gateway or WeChat bridge."""

from __future__ import annotations

import os

import httpx

from config.schema import Notify
from queue_server.notify.message import Notice


class WebhookError(RuntimeError):
    """The webhook did not take the notice (an answer other than 2xx, or no answer)."""


class WebhookNotifier:
    """Sends each notice as one POST; any 2xx answer is a delivery. The secret goes in `secret_header`."""

    def __init__(self, settings: Notify, environ: dict[str, str] | None = None) -> None:
        self.settings = settings
        env = os.environ if environ is None else environ
        self._headers = {"User-Agent": "bianmin-notify/1"}
        if settings.secret_env is not None:
            secret = env.get(settings.secret_env, "").strip()
            if not secret:
                raise WebhookError(f"the webhook secret's environment variable {settings.secret_env} is empty")
            self._headers[settings.secret_header] = secret
        self._client = httpx.AsyncClient(timeout=settings.timeout_s, trust_env=False, follow_redirects=False)

    async def send(self, notice: Notice) -> None:
        try:
            answer = await self._client.post(self.settings.url, json=notice.body(), headers=self._headers)
        except httpx.HTTPError as error:
            raise WebhookError(f"no answer from the webhook: {type(error).__name__}") from None
        if not 200 <= answer.status_code < 300:
            raise WebhookError(f"the webhook answered {answer.status_code}")

    async def aclose(self) -> None:
        await self._client.aclose()
