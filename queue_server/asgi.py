"""The application factory of a worker process (`bianmin serve --workers N`, or `uvicorn --factory`).

Each worker opens its own store on the database named by BIANMIN_DB (and the configuration file in
BIANMIN_CONFIG, the bundled demo hall when empty); the parent process has run the migrations.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from config.loader import default_config_path, load_config


def create() -> FastAPI:
    from queue_server.api.app import create_app
    from queue_server.server import config_reader, open_store, prompt_threads, quiet_collector

    config_file = Path(os.environ.get("BIANMIN_CONFIG") or default_config_path())
    store = open_store(load_config(config_file), os.environ["BIANMIN_DB"], migrate=False)
    app = create_app(store, owns_store=True, config_source=config_reader(config_file))
    quiet_collector()
    prompt_threads()
    return app
