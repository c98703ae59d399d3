"""The README's commands, run as written, and its links followed.

Every command the README shows is checked here or by the test it names: the two commands it opens with (the
test command is the one `.ci/run` runs; the start command is started below), the Python API example and the
command-line examples (run, with those of docs/api.md), and the Docker commands (the Dockerfile's own, which
tests/test_deploy.py replays without Docker). Links to files and headings in the README and docs/ must resolve.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._browser import free_port, serve_process  # noqa: E402

START = "pip install -r requirements.txt && streamlit run app.py"
TEST = "pip install -r requirements-dev.txt && python -m pytest"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of ``text`` in ``language``, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def _section(path: Path, title: str) -> str:
    """The section of ``path`` headed ``## title``, without its heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", _text(path), flags=re.M | re.S)
    assert match, f"{path.name} has no section '## {title}'"
    return match[1]


def _commands(block: str) -> list[str]:
    """A shell block's commands: continuation lines joined, comments dropped."""
    joined = block.replace("\\\n", " ")
    return [" ".join(line.split("#")[0].split()) for line in joined.splitlines() if line.split("#")[0].strip()]


def _shell_env() -> dict[str, str]:
    """This interpreter's `python`, `pip` and `streamlit` first on PATH, as in the environment a user installed."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


# ---------------------------------------------------------------------------------------------- the two


def test_the_readme_opens_with_the_two_commands():
    head = _text(README).split("\n## ")[0]
    assert head.startswith(f"# optiviz\n\n```bash\n{START}\n```\n\n```bash\n{TEST}\n```\n"), head[:300]
    assert "Python 3.11" in head and "Compiling the optimizer kernels" in head


def test_ci_runs_the_test_command_as_written():
    lines = [line.strip() for line in _text(ROOT / ".ci" / "run").splitlines()]
    assert lines[-1] == TEST, lines[-1]


def test_the_start_command_installs_what_this_environment_runs():
    """`pip install -r requirements.txt` is satisfied here, pin for pin: the app the tests run is the one it
    installs."""
    for line in _text(ROOT / "requirements.txt").splitlines():
        requirement = line.split("#")[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            assert version, f"requirements.txt: {requirement!r} is not pinned"
            assert metadata.version(name) == version, (name, metadata.version(name), version)


@pytest.mark.slow
def test_the_start_command_serves_the_app():
    """`streamlit run app.py`, typed as the README has it; the settings a user would not type (headless, a free
    port on loopback) come from Streamlit's environment variables."""
    command = START.split(" && ")[1]
    port = free_port()
    env = _shell_env() | {
        "STREAMLIT_SERVER_HEADLESS": "true", "STREAMLIT_SERVER_PORT": str(port),
        "STREAMLIT_SERVER_ADDRESS": "127.0.0.1", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
    }
    base = f"http://127.0.0.1:{port}"
    with serve_process(["bash", "-c", command], base, cwd=ROOT, env=env, label=command), \
            urllib.request.urlopen(base + "/", timeout=30) as response:
        assert response.status == 200
        assert 'id="root"' in response.read().decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------- API and CLI


def _python_examples() -> list[tuple[str, str]]:
    return [(f"{path.name}:{i}", code) for path in (README, ROOT / "docs" / "api.md")
            for i, code in enumerate(_blocks(_text(path), "python"), 1)]


def test_the_readme_has_one_api_example():
    assert len(_blocks(_text(README), "python")) == 1


@pytest.mark.parametrize(("where", "code"), _python_examples(), ids=[w for w, _ in _python_examples()])
def test_the_api_examples_run(where, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, where, "exec"), {"__name__": "__readme__"})
    if where.startswith("README"):
        printed = out.getvalue().splitlines()
        assert [line.split()[0] for line in printed[:2]] == ["adam", "sgd"], printed


def _cli_examples() -> list[str]:
    """The README's command-line examples, then those of docs/api.md that the README does not show."""
    commands = _commands("".join(_blocks(_section(README, "Command line"), "bash")))
    assert commands and all(c.startswith("python -m optiviz ") for c in commands), commands
    for block in _blocks(_text(ROOT / "docs" / "api.md"), "bash"):
        commands += [c for c in _commands(block) if c not in commands]
    return commands


@pytest.mark.parametrize("command", _cli_examples())
def test_the_cli_examples_run(command, tmp_path):
    result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=_shell_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    target = re.search(r"> (\S+)$", command)
    if target:  # written to a file: it holds the format asked for
        written = (tmp_path / target[1]).read_text(encoding="utf-8")
        first = {"csv": "run,optimizer,settings,step,", "html": "<!DOCTYPE html>", "torch": '"""',
                 "json": "{"}[re.search(r"--format (\w+)", command)[1]]
        assert written.lstrip().startswith(first), written[:200]
    elif "warmup" not in command:
        assert result.stdout.strip(), result.stderr


# --------------------------------------------------------------------------------------------- Docker


def test_the_docker_commands_are_the_dockerfiles():
    """No Docker engine here: the commands are the ones the Dockerfile documents at its top, the port they
    publish is the one the image exposes and serves on, and tests/test_deploy.py replays the build and CMD."""
    readme = _commands(_blocks(_section(README, "Docker"), "bash")[0])
    dockerfile = _text(ROOT / "Dockerfile")
    documented = [" ".join(line.lstrip("# ").split("#")[0].split()) for line in dockerfile.splitlines()
                  if line.startswith("#   docker ")]
    assert readme == documented, (readme, documented)
    published = re.search(r"-p (\d+):(\d+)", readme[1])
    assert published and published[1] == published[2]
    assert re.search(rf"^EXPOSE {published[2]}$", dockerfile, flags=re.M)
    assert f'"--server.port={published[2]}"' in dockerfile


# ---------------------------------------------------------------------------------------------- links


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _links(path: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", _text(path), flags=re.M | re.S)
    return [target for target in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", target)]


def test_the_readme_links_every_doc():
    linked = {target.split("#")[0] for target in _links(README)}
    assert {f"docs/{doc.name}" for doc in DOCS} <= linked


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(path):
    for target in _links(path):
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        assert resolved.exists(), f"{path.name} links {target}: no such file"
        if anchor and resolved.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", _text(resolved), flags=re.M)
            assert anchor in {_slug(h) for h in headings}, f"{path.name} links {target}: no such heading"


def test_the_readme_reads_in_two_minutes():
    assert len(_text(README).splitlines()) < 150
