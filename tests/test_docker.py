"""The Docker image as a user runs it: built from the Dockerfile, started with only a token and
a volume, it answers, announces an edit, runs as a non-root user, keeps its SQLite file on the
volume across a restart, and stops cleanly on `docker stop`.

Needs a Docker daemon and the base image (``python:3.12-slim``, or the image named by
``REDLINE_DOCKER_BASE``, e.g. a local mirror); skipped with the reason where either is missing.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.stories import fast_bot_env, first_user_sees_an_edit

ROOT = Path(__file__).resolve().parent.parent
BASE = os.environ.get("REDLINE_DOCKER_BASE", "python:3.12-slim")
IMAGE = "redline:test"


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from the project's Dockerfile."""
    if shutil.which("docker") is None:
        pytest.skip("docker is not installed")
    if docker("info", timeout=30).returncode != 0:
        pytest.skip("no Docker daemon is running")
    if docker("image", "inspect", BASE).returncode != 0 and docker("pull", BASE, timeout=300).returncode != 0:
        pytest.skip(f"base image {BASE} is not available (no registry access?); set REDLINE_DOCKER_BASE")
    # Host network: the build's pip reaches the same package index as this machine.
    built = docker(
        "build",
        "--network",
        "host",
        "--build-arg",
        f"PYTHON_IMAGE={BASE}",
        "-t",
        IMAGE,
        str(ROOT),
        timeout=900,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return IMAGE


@pytest.fixture
def volume() -> Iterator[str]:
    name = f"redline-test-{uuid.uuid4().hex[:8]}"
    yield name
    docker("volume", "rm", "-f", name)


async def start(image: str, volume: str, telegram: FakeTelegram) -> str:
    """A detached container configured as the README says: a token, a volume, nothing else
    (plus the fake Bot API's address and fast checks for the test)."""
    env = [arg for key, value in fast_bot_env(telegram).items() for arg in ("-e", f"{key}={value}")]
    run = await asyncio.to_thread(
        docker,
        "run",
        "-d",
        "--restart",
        "unless-stopped",
        "--network",
        "host",
        "-v",
        f"{volume}:/data",
        *env,
        image,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


async def stop(container: str) -> tuple[int, str]:
    """`docker stop` (SIGTERM); the exit code and the container's logs."""
    await asyncio.to_thread(docker, "stop", "-t", "30", container, timeout=60)
    code = (await asyncio.to_thread(docker, "inspect", "-f", "{{.State.ExitCode}}", container)).stdout.strip()
    logs = await asyncio.to_thread(docker, "logs", container)
    await asyncio.to_thread(docker, "rm", "-f", container)
    return int(code), logs.stdout + logs.stderr


async def test_docker_image_runs_the_bot(
    image: str, volume: str, telegram: FakeTelegram, articles: ArticleServer
) -> None:
    container = await start(image, volume, telegram)
    try:
        await first_user_sees_an_edit(telegram, articles)
        user = await asyncio.to_thread(docker, "exec", container, "id", "-u")
        assert user.stdout.strip() == "10001", "the bot must not run as root"
        owner = await asyncio.to_thread(docker, "exec", container, "stat", "-c", "%u", "/data/redline.db")
        assert owner.stdout.strip() == "10001", owner.stderr
    finally:
        code, logs = await stop(container)
    assert code == 0, logs[-3000:]
    assert "Traceback" not in logs and telegram.token.split(":", 1)[1] not in logs

    # A new container on the same volume remembers the article.
    container = await start(image, volume, telegram)
    try:
        listed = await telegram.ask(1001, "/list", timeout=60)
        assert (
            "1. " in listed.text and "cancels Paris visit" in listed.text and "2 versions" in listed.text
        ), listed.text
    finally:
        code, logs = await stop(container)
    assert code == 0, logs[-3000:]


def test_docker_unwritable_bind_mount_is_one_line(image: str, tmp_path: Path) -> None:
    """`-v ./data:/data` with a directory the image's user cannot write: say so, no traceback."""
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    run = docker("run", "--rm", "-e", "REDLINE_TELEGRAM_TOKEN=1:x", "-v", f"{data}:/data", image, timeout=120)
    assert run.returncode == 2
    assert run.stderr == "redline: error: database directory is not writable by uid 10001: /data\n"


def test_readme_and_compose_restart_the_bot_after_a_blip() -> None:
    """No daemon needed: the documented `docker run` and every service of compose.yaml restart
    unless stopped, and compose's bot and worker reach its PostgreSQL with its credentials."""
    readme = (ROOT / "README.md").read_text()
    runs = [line for line in readme.splitlines() if line.startswith("docker run ")]
    assert runs and all("--restart unless-stopped" in line for line in runs), runs
    compose = (ROOT / "compose.yaml").read_text()
    services = re.findall(r"^  (\w+):\n", compose.split("\nservices:\n", 1)[1], re.MULTILINE)
    assert services == ["bot", "worker", "db"]
    assert compose.count("restart: unless-stopped") == 2  # the shared Redline block and the database
    assert re.search(r'^  bot:\n    <<: \*redline\n    command: \["run"\]$', compose, re.MULTILINE)
    assert re.search(r'^  worker:\n    <<: \*redline\n    command: \["worker"\]$', compose, re.MULTILINE)
    url = re.search(r"REDLINE_DATABASE_URL: postgresql\+psycopg://(\w+):(\S+)@db:5432/(\w+)", compose)
    assert url is not None
    assert f"POSTGRES_USER: {url[1]}" in compose and f"POSTGRES_DB: {url[3]}" in compose
    assert f"POSTGRES_PASSWORD: {url[2]}" in compose
    assert "'.[postgres]'" in (ROOT / "Dockerfile").read_text()
