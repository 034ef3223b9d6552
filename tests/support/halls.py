"""A configuration of two halls (the demo hall and a copy of it, 白云镇), as a county database holds several."""

from __future__ import annotations

import shutil
from pathlib import Path

from config.loader import default_config_path, load_config
from config.schema import HallConfig

OTHER_HALL = "baiyun"


def write_two_halls(folder: Path) -> Path:
    """The demo hall's folder copied to `folder`, its hall.toml naming a second hall too; returns that file."""
    source = default_config_path().parent
    shutil.copytree(source, folder, dirs_exist_ok=True)
    text = (source / "hall.toml").read_text(encoding="utf-8")
    hall = text[text.index("[[halls]]") :]
    other = (
        hall.replace('id = "qingshan"', f'id = "{OTHER_HALL}"', 1)
        .replace("青山镇便民服务中心", "白云镇便民服务中心")
        .replace("Qingshan Town", "Baiyun Town")
    )
    path = folder / "hall.toml"
    path.write_text(text + "\n" + other, encoding="utf-8")
    return path


def two_halls(folder: Path) -> HallConfig:
    return load_config(write_two_halls(folder))
