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


# A county government-service center's big hall: the demo hall's categories served by 60 windows, the
# names a county hall has (some long, in both languages), announcements and a featured item on the board.
COUNTY_WINDOW_NAMES = [
    ("计生服务", "Family Planning", ["jisheng"]),
    ("不动产登记", "Real Estate Registration and Land Use Certificates", ["guotu"]),
    ("民政婚姻登记", "Civil Affairs and Marriage Registration", ["minzheng"]),
    ("司法信访", "Justice and Petitions", ["sifa"]),
    ("社保医保", "Social Security and Medical Insurance", ["laobao"]),
    ("财政扶贫", "Finance and Poverty Relief", ["caizheng"]),
    ("农林水牧", "Agriculture, Forestry, Water and Livestock", ["nonglin"]),
    ("公安户籍", "Household Registration (Police)", ["huji"]),
    ("综合受理", "General Reception", ["zonghe", "jisheng", "minzheng"]),
    ("企业开办", "Starting a Business", ["zonghe"]),
]
COUNTY_BOARD = """
[halls.board]
page_seconds = 8
featured_items = ["huji-birth-registration"]

[[halls.board.announcements]]
zh = "本中心实行“一窗受理、集成服务”，午间不休息，周六上午提供延时服务。"
en = "One-window service; open at noon; Saturday mornings too."

[[halls.board.announcements]]
zh = "办事请带齐材料，不清楚的可到1号咨询台询问；好差评请扫描窗口二维码。"
en = "Bring every material; ask at the enquiry desk. Rate us with the QR code at the window."
"""


def write_county_hall(folder: Path, windows: int = 60) -> Path:
    """The demo hall's folder copied to `folder`, its hall.toml giving the hall `windows` windows; returns it."""
    source = default_config_path().parent
    shutil.copytree(source, folder, dirs_exist_ok=True)
    text = (source / "hall.toml").read_text(encoding="utf-8")
    text = text.replace("青山镇便民服务中心", "长青县政务服务中心").replace(
        "Qingshan Town Convenience Service Center", "Changqing County Government Service Center"
    )
    head, _, rest = text.partition("[[halls.windows]]")
    devices = rest[rest.index("[[halls.devices]]") :]
    tables = []
    for number in range(1, windows + 1):
        name_zh, name_en, categories = COUNTY_WINDOW_NAMES[(number - 1) % len(COUNTY_WINDOW_NAMES)]
        codes = ", ".join(f'"{code}"' for code in categories)
        tables.append(
            f'[[halls.windows]]\nnumber = {number}\nname_zh = "{name_zh}窗口"\nname_en = "{name_en}"\n'
            f"categories = [{codes}]\n"
        )
    path = folder / "hall.toml"
    calls_only = (
        '\n[[halls.devices]]\nkind = "board"\nid = "board-calls-only"\nname = "二楼叫号屏"\nnotice_zone = false\n'
    )
    path.write_text(head + COUNTY_BOARD + "\n" + "\n".join(tables) + "\n" + devices + calls_only, encoding="utf-8")
    return path


def county_hall(folder: Path, windows: int = 60) -> HallConfig:
    return load_config(write_county_hall(folder, windows))
