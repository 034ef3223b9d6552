"""A small valid hall configuration written into tmp_path, for tests to break one field at a time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from config.loader import ConfigError, Problem, load_config

MAIN = """\
# A small test hall.
calendar = ["calendar/*.toml"]

[[halls]]
id = "test"
name_zh = "测试镇便民服务中心"
name_en = "Test Town Convenience Service Center"
address = "测试县测试镇人民路1号"
phone = "0731-1234 5678"
supervision_phone = "0731-1234 5679"
catalog = ["items/*.toml"]
sessions = [
    { start = "08:30", end = "12:00" },
    { start = "14:30", end = "17:30" },
]

[halls.queue]
recall_limit = 3

[[halls.categories]]
code = "jisheng"
prefix = "A"
name_zh = "计生服务"
name_en = "Family Planning"

[[halls.categories]]
code = "minzheng"
prefix = "C"
name_zh = "民政民宗"
name_en = "Civil Affairs and Religion"

[[halls.windows]]
number = 1
name_zh = "计生服务窗口"
name_en = "Family Planning"
categories = ["jisheng"]
a_post = "liuxia"
b_post = "chenjing"

[[halls.windows]]
number = 2
name_zh = "民政民宗窗口"
name_en = "Civil Affairs"
categories = ["minzheng", "jisheng"]

[[halls.devices]]
kind = "kiosk"
id = "kiosk-1"
name = "大厅入口取号机"
printer = "printer-1"

[[halls.devices]]
kind = "printer"
id = "printer-1"
name = "取号机热敏打印机"

[[halls.devices]]
kind = "board"
id = "board-w1"
name = "1号窗口屏"
window = 1
"""

JISHENG = """\
category = "jisheng"

[[items]]
id = "jisheng-birth-registration"
name_zh = "生育登记"
name_en = "Birth registration"
legal_basis = ["《中华人民共和国人口与计划生育法》第十八条"]
conditions = ["夫妻一方户籍在本镇"]
procedure = ["提交材料", "窗口审核，当场办结"]
case_kind = "immediate"
department = "镇卫生健康办"
fee = { free = true }
materials = [
  { name = "夫妻双方居民身份证", form = "original_and_copy", copies = 1 },
  { name = "结婚证", form = "original", copies = 1, notes = "离婚再婚的另带离婚证" },
]

[[items]]
id = "jisheng-family-allowance"
name_zh = "计划生育家庭特别扶助金申请"
name_en = "Special allowance for family-planning families"
legal_basis = ["《湖南省人口与计划生育条例》"]
conditions = ["符合特别扶助条件的家庭"]
procedure = ["受理", "审核", "公示"]
case_kind = "promised"
promised_days = 20
department = "镇卫生健康办"
fee = { free = true }
materials = [
  { name = "申请表", form = "original", copies = 2 },
]
"""

MINZHENG = """\
category = "minzheng"

[[items]]
id = "minzheng-low-income"
category = "minzheng"
name_zh = "最低生活保障申请"
name_en = "Minimum living allowance"
legal_basis = ["《社会救助暂行办法》"]
conditions = ["家庭人均收入低于当地低保标准"]
procedure = ["申请", "入户调查", "公示", "审批"]
case_kind = "promised"
promised_days = 30
department = "镇民政办"
fee = { free = true }
appointment = false
materials = [
  { name = "户口簿", form = "original_and_copy" },
]
"""

CALENDAR = """\
year = 2030

[[holidays]]
name_zh = "国庆节"
name_en = "National Day"
start = 2030-10-01
end = 2030-10-07
makeup_workdays = [2030-09-29, 2030-10-12]
"""


@dataclass
class HallFiles:
    """The files of a test configuration, with helpers to break them and read the problems."""

    root: Path

    @property
    def main(self) -> Path:
        return self.root / "hall.toml"

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def edit(self, name: str, old: str, new: str, count: int = 1) -> None:
        """Replace the count-th occurrence of old in a file (it must be there)."""
        path = self.root / name
        text = path.read_text(encoding="utf-8")
        at = -1
        for _ in range(count):
            at = text.index(old, at + 1)
        path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")

    def line(self, name: str, needle: str, nth: int = 1) -> int:
        """The 1-based line of the nth line of a file containing needle."""
        lines = [
            number
            for number, line in enumerate((self.root / name).read_text("utf-8").splitlines(), 1)
            if needle in line
        ]
        return lines[nth - 1]

    def problems(self) -> list[Problem]:
        with pytest.raises(ConfigError) as caught:
            load_config(self.main)
        return caught.value.problems

    def problem(self, path: str, file: str = "hall.toml") -> Problem:
        """The one problem reported for path in file."""
        found = [problem for problem in self.problems() if problem.path == path and problem.file == self.root / file]
        assert len(found) == 1, "\n".join(map(str, self.problems()))
        return found[0]


@pytest.fixture
def hall_files(tmp_path: Path) -> HallFiles:
    files = HallFiles(tmp_path)
    files.write("hall.toml", MAIN)
    files.write("items/jisheng.toml", JISHENG)
    files.write("items/minzheng.toml", MINZHENG)
    files.write("calendar/2030.toml", CALENDAR)
    return files
