"""The deployment path: the template's commands, the lock, what refuses to start on Vercel."""

import ast
import importlib.metadata
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

import productinfo

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VERCEL = {
    "VERCEL": "1",
    "DATABASE_URL": "postgres://u:p@pooler:6543/postgres",
    "STORAGE_BACKEND": "supabase",
    "SUPABASE_URL": "https://ref.supabase.co",
    "SUPABASE_SERVICE_ROLE_KEY": "service-role-key",
    "SUPABASE_BUCKET": "photos",
    "MAIL_BACKEND": "smtp",
    "SMTP_HOST": "smtp.example.com",
    "PUBLIC_BASE_URL": "https://products.example.com",
}


def uv(*args: str) -> subprocess.CompletedProcess:
    """Run the uv of the test tools on the repository, without the network."""
    return subprocess.run(
        [sys.executable, "-m", "uv", *args, "--offline", "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_lock_file_matches_the_declared_dependencies():
    result = uv("lock", "--check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("path", "groups"),
    [("requirements.txt", ["--no-dev"]), ("requirements-dev.txt", [])],
)
def test_requirements_files_are_exported_from_the_lock(path, groups):
    result = uv("export", "--frozen", *groups, "--no-emit-project", "--no-header")
    assert result.returncode == 0, result.stderr
    committed = (ROOT / path).read_text()
    body = committed[committed.index("\n", committed.index("\n") + 1) + 1 :]
    assert body == result.stdout, f"{path} is stale: run the update command in README.md"


def test_requirements_pin_every_package_with_hashes():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    requirements = [line for line in lines if line and not line.startswith((" ", "#"))]
    assert len(requirements) > 40  # the whole tree, not only the direct dependencies
    for requirement in requirements:
        assert "==" in requirement and requirement.endswith("\\"), requirement
    assert "flask-swagger-ui==" in "\n".join(requirements)


def canonical(name: str) -> str:
    return name.split("==")[0].split("[")[0].lower().replace("_", "-").replace(".", "-")


def test_every_imported_package_is_declared():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {canonical(requirement) for requirement in declared}
    imported = set()
    for path in [*(ROOT / "productinfo").rglob("*.py"), *(ROOT / "api").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"productinfo", "api"}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {
        module
        for module in third_party
        if not {canonical(name) for name in distributions[module]} & declared
    }
    assert "flask" in third_party and "httpx" in third_party
    assert undeclared == set()


def test_project_version_is_the_package_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == productinfo.__version__


def test_api_folder_holds_one_vercel_function():
    # Every other .py file in api/ would become a Vercel function of its own.
    files = {path.name for path in (ROOT / "api").iterdir() if path.name != "__pycache__"}
    assert files == {"index.py", "__init__.py"}
    assert (ROOT / "api" / "__init__.py").read_text() == ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_template_command_serves_from_the_repository_root(tmp_path):
    """`flask --app api/index run`, as the Flask on Vercel template runs it."""
    port = free_port()
    env = {"PATH": os.environ["PATH"], "INSTANCE_PATH": str(tmp_path / "instance")}
    command = [str(BIN / "flask"), "--app", "api/index", "run", "--port", str(port)]
    log = tmp_path / "flask.log"
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"flask run did not serve: {log.read_text()}")
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


def start_on_vercel(environ: dict, instance: Path) -> subprocess.CompletedProcess:
    """Import the Vercel entry point as the function does, with this environment."""
    env = {"PATH": os.environ["PATH"], "INSTANCE_PATH": str(instance), **environ}
    return subprocess.run(
        [sys.executable, "-c", "import api.index"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("secret", [None, "k" * 48])
def test_development_mode_refuses_to_start_on_vercel(tmp_path, secret):
    environ = {**VERCEL, "APP_ENV": "development"}
    if secret:
        environ["SECRET_KEY"] = secret
    instance = tmp_path / "instance"
    result = start_on_vercel(environ, instance)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert "APP_ENV=development" in result.stderr
    # Vercel's disk is read-only: nothing may be written there, not even a secret key.
    assert not instance.exists()


def test_production_is_implied_on_vercel(tmp_path):
    result = start_on_vercel({**VERCEL, "SECRET_KEY": "k" * 48}, tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "instance").exists()
