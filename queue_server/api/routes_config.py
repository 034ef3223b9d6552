"""The administrator's configuration reload: every process of the server serves the new file's halls."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from config.loader import ConfigError
from queue_server.api.deps import AdminDep, State
from queue_server.errors import BadRequest, Conflict

router = APIRouter(prefix="/api/v1/config", tags=["staff"])


class Reloaded(BaseModel):
    halls: list[str]
    items: int  # service items in all halls


@router.post(
    "/reload",
    response_model=Reloaded,
    responses={400: {"description": "the file fails validation: nothing changed"}, 409: {"description": "no file"}},
)
async def reload_config(state: State, _admin: AdminDep) -> Reloaded:
    """Read the configuration file again and serve it, in this process and every other on the database.

    A file that fails validation (the same checks as `bianmin config check`) changes nothing; the answer
    lists every problem. Halls keep their tickets, numbering and windows: they are reloaded from the database.
    """
    if state.config_source is None:
        raise Conflict("this server was started without a configuration file to reload (未指定配置文件)")
    try:
        config = await state.reload_config(announce=True)
    except ConfigError as error:
        problems = "; ".join(str(p) for p in error.problems)
        raise BadRequest(
            f"the configuration fails validation, nothing changed (配置有误，未生效): {problems}"
        ) from None
    return Reloaded(halls=[h.id for h in config.halls], items=sum(len(h.items) for h in config.halls))
