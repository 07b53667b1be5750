"""Each setting has one definition, with its default, in config/settings.py: application code
reads ``settings.X`` and never restates a default with ``getattr(settings, X, default)``."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["core", "tracking", "sellers", "payouts", "notifications", "returns", "cs", "devtools"]
RESTATED_DEFAULT = re.compile(r"getattr\(\s*settings\s*,")


def test_application_code_never_restates_a_setting_default():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if RESTATED_DEFAULT.search(line)
    ]
    assert offenders == []


def test_every_setting_the_code_reads_by_name_is_defined_in_config(settings):
    # the names the restated defaults used to cover are all defined once, in config/settings.py
    source = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    read = {
        name
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        for name in re.findall(r"\bsettings\.([A-Z][A-Z0-9_]+)", path.read_text(encoding="utf-8"))
    }
    missing = sorted(
        name
        for name in read
        if not re.search(rf"^{name}\b", source, re.M) and not hasattr(settings, name)
    )
    assert missing == []
