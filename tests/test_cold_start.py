"""What a cold start loads: the first lookup on Vercel's settings imports only what it needs.

A new interpreter imports the Vercel entry and serves one authenticated barcode
lookup through the WSGI callable, as the function does; then it lists the modules
it loaded. Speed itself is shown by bench/cold_start.py, never asserted here.
"""

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import admin_with_product
from tests.test_deploy import VERCEL

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "k" * 48
FIRST_LOOKUP = """import json, os, sys
from api.index import app
from werkzeug.test import EnvironBuilder
headers = {"Authorization": "Bearer " + os.environ["TOKEN"]}
environ = EnvironBuilder(path="/products.getByBarcode/X1", headers=headers).get_environ()
body = b"".join(app(environ, lambda status, headers, exc_info=None: None))
print(json.dumps({"body": json.loads(body), "modules": sorted(sys.modules)}))
"""
# Each with what needs it: none is needed to answer a lookup.
NOT_LOADED = {
    "alembic": "migrations: `flask db upgrade` only",
    "sqlalchemy.orm": "nothing: the app uses SQLAlchemy Core alone",
    "storage3": "a request that reaches Supabase Storage; stable photo URLs do not",
    "httpx": "the same",
    "PIL": "an upload",
    "pillow_heif": "an upload of a HEIC photo",
    "smtplib": "sending mail",
    "cryptography": "nothing: PyJWT imports it whenever it is installed, so it is not",
}


def test_first_lookup_loads_only_what_it_needs(make_app, tmp_path):
    app = make_app(SECRET_KEY=SECRET_KEY)
    client, product_id = admin_with_product(app)
    token = client.environ_base["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    database = {"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": SECRET_KEY}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_LOOKUP],
        cwd=ROOT,
        env={**VERCEL, **database, "TOKEN": token, "INSTANCE_PATH": str(tmp_path / "instance")},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["body"]["data"]["id"] == product_id
    loaded = {
        needed
        for needed in NOT_LOADED
        for module in answer["modules"]
        if module == needed or module.startswith(needed + ".")
    }
    assert not loaded, {module: NOT_LOADED[module] for module in loaded}
