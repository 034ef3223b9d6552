"""The spoken audio of a call: GET /api/v1/halls/{hall}/announcements/{number}/{window}.wav (public).

Without a query the WAV is one saying of the call, after the chime: `[叮咚] 请 A 零 零 一 号到 三
号窗口办理`. The call message's `announcement.audio_url` points here and its `repeat` says how many
times to say it: a client either plays this file `repeat` times, or fetches `?repeat=N` — the whole
announcement in one file (one chime, the call said N times with a pause between) — and plays it
once, as the web board does. Results are kept in an LRU, so every board fetching the same call and
its recalls costs one stitch (~1 ms). The clips are read when the server starts: an unusable clip
folder stops it there, with one line per bad file.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response

from queue_server.api.deps import HallDep
from queue_server.api.state import ServerState
from queue_server.voice.clips import VoiceError
from queue_server.voice.service import MAX_REPEAT, VoiceService

log = logging.getLogger(__name__)


def _load(state: ServerState) -> VoiceService:
    try:
        return VoiceService.load(state.config)
    except VoiceError as error:
        log.error("voice clips cannot be used; the server does not start:\n  %s", "\n  ".join(error.problems))
        raise


@asynccontextmanager
async def _load_clips(app: FastAPI) -> AsyncIterator[None]:
    app.state.bianmin_voice = _load(app.state.bianmin)
    yield


def voice_service(request: Request) -> VoiceService:
    service: VoiceService | None = getattr(request.app.state, "bianmin_voice", None)
    if service is None:  # an app run without its lifespan (some test clients)
        service = request.app.state.bianmin_voice = _load(request.app.state.bianmin)
    return service


VoiceDep = Annotated[VoiceService, Depends(voice_service)]
Repeat = Annotated[int, Query(ge=1, le=MAX_REPEAT, description="say the call this many times, after one chime")]

router = APIRouter(prefix="/api/v1/halls/{hall}", tags=["public"], lifespan=_load_clips)


@router.get(
    "/announcements/{number}/{window}.wav",
    response_class=Response,
    responses={
        200: {"content": {"audio/wav": {}}, "description": "16 kHz mono 16-bit PCM WAV"},
        404: {"description": "no such hall, ticket number (e.g. A001, A1000) or window"},
    },
)
async def announcement_audio(hall: HallDep, voice: VoiceDep, number: str, window: str, repeat: Repeat = 1) -> Response:
    """The call of `number` (e.g. A001) to `window` as the hall says it; 404 for a number or window it cannot have."""
    wav = voice.audio(hall, number, window, repeat)
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": "public, max-age=300"})
