"""Devices collect offline and sync over a bad network; the server never loses or doubles a record.

A Hypothesis state machine drives several devices (two staff members, one of
them sharing a phone with the other) that create companies, products and photos
offline, push them in batches whose answers may be lost, which may be sent twice
or in another order, refresh their tokens, and pull. After every step the server
must hold each record once, keep every mapping it gave, and a full pull must
reproduce what it holds.
"""

import io
import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from productinfo.catalog.service import name_key
from productinfo.models import metadata
from productinfo.products.barcodes import key
from tests.helpers import PASSWORD, Auth, assert_ok
from tests.images import encode, halves

NAMES = ["Ifri", "IFRI ", "Candia", "Cevital"]
BARCODES = ["5449000000996", "036000291452", "0036000291452", "96385074"]
IMAGES = [encode(halves((16, 8)), "PNG"), encode(halves((8, 16)), "PNG")]


class Device:
    """One install of the app: its local records, and what it learned from the server."""

    def __init__(self, name: str, client, device_id: str, user: dict):
        self.name, self.client, self.device_id, self.user = name, client, device_id, user
        self.companies: dict[str, str] = {}  # local id -> name
        self.products: dict[str, tuple[str, str]] = {}  # local id -> (barcode, company local id)
        self.photos: dict[str, tuple[str, int]] = {}  # local id -> (product local id, image)
        self.learned = {"companies": {}, "products": {}, "photos": {}}
        self.sent_products: set[str] = set()  # local ids sent at least once
        self.cursor = None
        self.mirror = {"companies": {}, "products": {}}  # server records, as pulled
        self.counter = 0

    def new_id(self) -> str:
        self.counter += 1
        return f"{self.name}-{self.counter}"

    def __repr__(self):
        return self.name


def reset(engine) -> None:
    """Empty every table, between two examples."""
    names = [table.name for table in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))


class SyncMachine(RuleBasedStateMachine):
    app = None  # set by the test

    def __init__(self):
        super().__init__()
        reset(self.app.extensions["db"].engine)
        auth = Auth(self.app)
        admin = auth.client("admin", email="admin@example.com")
        self.category = assert_ok(admin.post("/categories.add", json={"name": "Food"}))["id"]
        ana, bo = auth.signup(email="ana@example.com"), auth.signup(email="bo@example.com")
        shared_phone = str(uuid.uuid4())
        self.devices = [
            Device("ana-phone", self._client_for(ana), shared_phone, ana),
            Device("bo-phone", self._client_for(bo), shared_phone, bo),  # the same phone
            Device("ana-tablet", self._client_for(ana), str(uuid.uuid4()), ana),
        ]
        # What the server received, whether or not the answer came back.
        self.sent_companies: set[str] = set()
        self.sent_products: set[str] = set()
        self.sent_photos: set[tuple[str, int]] = set()
        self.mappings_seen: dict[tuple, int] = {}

    def _client_for(self, user):
        client = self.app.test_client()
        login = {"email": user["email"], "password": PASSWORD}
        signed_in = assert_ok(client.post("/users.login", json=login))
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {signed_in['access_token']}"
        client.refresh_token = signed_in["refresh_token"]
        return client

    # Offline work

    @rule(
        data=st.data(),
        device=st.sampled_from(range(3)),
        name=st.sampled_from(NAMES),
        barcode=st.sampled_from(BARCODES),
        images=st.lists(st.sampled_from(range(len(IMAGES))), max_size=2),
    )
    def capture(self, data, device, name, barcode, images):
        """Capture a product offline: its company (new or already on the device), its photos."""
        d = self.devices[device]
        company = data.draw(st.sampled_from([None, *sorted(d.companies)]))
        if company is None:
            company = d.new_id()
            d.companies[company] = name
        product = d.new_id()
        d.products[product] = (barcode, company)
        for image in images:
            d.photos[d.new_id()] = (product, image)

    # The network

    @rule(data=st.data(), lose=st.booleans(), twice=st.booleans())
    def push(self, data, lose, twice):
        d = data.draw(st.sampled_from(self.devices))
        companies = [
            {"id": local, "name": name}
            for local, name in d.companies.items()
            if local not in d.learned["companies"]
        ]
        products = [
            {
                "local_id": local,
                "name": f"P {barcode}",
                "barcode": barcode,
                "category_id": self.category,
                "company_local_id": company,
            }
            for local, (barcode, company) in d.products.items()
            if local not in d.learned["products"]
        ]
        companies = data.draw(st.permutations(companies))
        products = data.draw(st.permutations(products))
        for _ in range(2 if twice else 1):
            if companies:
                answer = assert_ok(
                    d.client.post(
                        "/companies.add", json={"device_id": d.device_id, "companies": companies}
                    )
                )
                self.sent_companies |= {name_key(c["name"]) for c in companies}
                self._learn(d, "companies", answer, lose)
            if products:
                answer = assert_ok(
                    d.client.post(
                        "/products.add", json={"device_id": d.device_id, "products": products}
                    )
                )
                for record, result in zip(products, answer["results"], strict=True):
                    assert result["status"] != "error", result
                    self.sent_products.add(key(record["barcode"]))
                    d.sent_products.add(record["local_id"])
                self._learn(d, "products", answer, lose)
            for local, (product, image) in d.photos.items():
                # The app sends the photos of products it sent, answered or not.
                if local in d.learned["photos"] or product not in d.sent_products:
                    continue
                form = {
                    "device_id": d.device_id,
                    "local_id": local,
                    "product_local_id": product,
                    "file": (io.BytesIO(IMAGES[image]), "photo.png"),
                }
                answer = assert_ok(
                    d.client.post("/photo.upload", data=form, content_type="multipart/form-data")
                )
                self.sent_photos.add((key(d.products[product][0]), image))
                self._learn(d, "photos", answer, lose)

    def _learn(self, d: Device, kind: str, answer: dict, lose: bool) -> None:
        if not lose:
            d.learned[kind].update(answer["mapping"])

    @rule(device=st.sampled_from(range(3)))
    def refresh_token(self, device):
        client = self.devices[device].client
        fresh = assert_ok(
            client.post("/users.refresh", json={"refresh_token": client.refresh_token})
        )
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {fresh['access_token']}"
        client.refresh_token = fresh["refresh_token"]

    @rule(device=st.sampled_from(range(3)), limit=st.sampled_from([2, 50]))
    def pull(self, device, limit):
        d = self.devices[device]
        d.cursor = pull_into(d.client, d.mirror, d.cursor, limit)
        assert d.mirror == self.server_state()

    # What must always hold

    def server_state(self) -> dict:
        with self.app.extensions["db"].engine.connect() as conn:
            companies = dict(conn.execute(text("SELECT id, name FROM companies")).all())
            products = conn.execute(text(PRODUCTS_WITH_PHOTO_COUNTS)).all()
        return {
            "companies": companies,
            "products": {row.id: (row.barcode, row.photos) for row in products},
        }

    @invariant()
    def each_record_is_stored_once(self):
        with self.app.extensions["db"].engine.connect() as conn:
            companies = conn.execute(text("SELECT name_key FROM companies")).scalars().all()
            products = conn.execute(text("SELECT barcode_key FROM products")).scalars().all()
            photos = conn.execute(text("SELECT count(*) FROM photos")).scalar()
        assert sorted(companies) == sorted(self.sent_companies)
        assert sorted(products) == sorted(self.sent_products)
        assert photos == len(self.sent_photos)

    @invariant()
    def mappings_never_change(self):
        with self.app.extensions["db"].engine.connect() as conn:
            rows = conn.execute(
                text("SELECT user_id, device_id, kind, local_id, server_id FROM sync_mappings")
            ).all()
        for user_id, device_id, kind, local_id, server_id in rows:
            assert (
                self.mappings_seen.setdefault((user_id, device_id, kind, local_id), server_id)
                == server_id
            )
        for d in self.devices:
            for plural, learned in d.learned.items():
                kind = {"companies": "company", "products": "product", "photos": "photo"}[plural]
                for local, server_id in learned.items():
                    assert self.mappings_seen[(d.user["id"], d.device_id, kind, local)] == server_id

    @invariant()
    def a_full_pull_reproduces_the_server(self):
        mirror = {"companies": {}, "products": {}}
        pull_into(self.devices[0].client, mirror, None, limit=3)
        assert mirror == self.server_state()


PRODUCTS_WITH_PHOTO_COUNTS = """
    SELECT p.id, p.barcode, count(ph.id) AS photos
    FROM products p LEFT JOIN photos ph ON ph.product_id = p.id
    WHERE p.deleted_at IS NULL
    GROUP BY p.id, p.barcode
"""


def pull_into(client, mirror: dict, cursor, limit: int):
    """Pull until nothing more waits, applying each change as an upsert; return the cursor."""
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get("/sync.pull", query_string=query).get_json()
        assert body["status"] == 200, body
        for company in body["data"]["companies"]["changed"]:
            mirror["companies"][company["id"]] = company["name"]
        for product in body["data"]["products"]["changed"]:
            mirror["products"][product["id"]] = (product["barcode"], len(product["photos"]))
        for product_id in body["data"]["products"]["deleted"]:
            mirror["products"].pop(product_id, None)
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return cursor


def test_devices_sync_without_loss_or_duplicates(app):
    SyncMachine.app = app
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
