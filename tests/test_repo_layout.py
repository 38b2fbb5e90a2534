"""What a fresh clone shows: a distribution not called `bot`, a local config git ignores, and
knowledge comments that point inside the repository."""

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_distribution_is_named_for_the_project_not_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "child-protection-bot"
    assert project["scripts"]["child-protection-bot"] == "bot.__main__:main"


def test_a_local_config_yaml_is_not_committed_by_accident():
    result = subprocess.run(["git", "check-ignore", "-q", "config.yaml"], cwd=ROOT)
    assert result.returncode == 0, "config.yaml (staff ids) must be in .gitignore"
    result = subprocess.run(["git", "check-ignore", "-q", "config.example.yaml"], cwd=ROOT)
    assert result.returncode == 1


def test_knowledge_comments_point_inside_the_repository():
    for path in sorted((ROOT / "knowledge").rglob("*.yaml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            comment = line.split("#", 1)[1] if "#" in line else ""
            assert not re.search(r"(^|\s|\()(/work/|/home/|/tmp/|\.\./)", comment), (
                f"{path}:{number}: a path outside the repository: {line.strip()}"
            )
            # A folder ("seeds/") or a file ("bench/privacy.py") a comment names must be there.
            for named in re.findall(r"[\w.-]*/[\w./-]*\.(?:py|md|yaml)\b|\b[\w-]+/(?=[\s,.)]|$)",
                                    comment):
                found = (ROOT / named).exists() or (ROOT / "knowledge" / named).exists()
                assert found, f"{path}:{number}: '{named}' is not in the repository"
