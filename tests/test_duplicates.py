"""/companies.duplicates: likely twin manufacturers, by normalised name and by similarity."""

import pytest

from productinfo.merges.duplicates import gather, similarity, trigrams, twin_key
from tests.helpers import assert_error, assert_ok

NAMES = [
    "Cevital",
    "CEVITAL Spa",
    "Cévital S.P.A.",
    "Ifri",
    "Soummam",
    "Soumam",
    "Candia",
    "Hamoud Boualem",
    "Hamoud-Boualem",
]


@pytest.fixture
def companies(admin, category):
    batch = [{"id": i, "name": name} for i, name in enumerate(NAMES)]
    mapping = assert_ok(admin.post("/companies.add", json={"companies": batch}))["mapping"]
    ids = {name: mapping[str(i)] for i, name in enumerate(NAMES)}
    # Products, so that the counts tell which twin to keep.
    for n, (name, count) in enumerate({"CEVITAL Spa": 2, "Cevital": 1, "Soumam": 1}.items()):
        for k in range(count):
            body = {
                "name": f"Product {n}{k}",
                "barcode": f"INT-{n}{k}",
                "category_id": category,
                "company_id": ids[name],
            }
            assert_ok(admin.post("/products.add", json=body))
    return ids


@pytest.fixture
def category(admin):
    return assert_ok(admin.post("/categories.add", json={"name": "Food"}))["id"]


def named(groups):
    return [[(c["name"], c["products"]) for c in g["companies"]] for g in groups]


def test_twins_by_normalised_name_then_by_similarity(admin, companies):
    answer = admin.get("/companies.duplicates").get_json()
    assert answer["next_cursor"] is None
    groups = answer["data"]
    assert named(groups) == [
        # The one with the most products first: the one to keep.
        [("CEVITAL Spa", 2), ("Cevital", 1), ("Cévital S.P.A.", 0)],
        [("Hamoud Boualem", 0), ("Hamoud-Boualem", 0)],
        [("Soumam", 1), ("Soummam", 0)],
    ]
    assert [(g["reason"], g["similarity"]) for g in groups] == [
        ("same_name", 1.0),
        ("same_name", 1.0),
        # 6 trigrams shared of 9 in all: "  s", " so", "sou", "oum", "mam", "am ".
        ("similar_name", 0.667),
    ]


def test_pages_cover_every_group_once(admin, companies):
    seen, cursor = [], None
    while True:
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        body = admin.get("/companies.duplicates", query_string=query).get_json()
        assert body["status"] == 200, body
        seen += named(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == named(assert_ok(admin.get("/companies.duplicates")))
    assert len(seen) == 3


def test_a_higher_threshold_keeps_only_the_same_names(admin, companies):
    groups = assert_ok(admin.get("/companies.duplicates", query_string={"similarity": 0.9}))
    assert [g["reason"] for g in groups] == ["same_name", "same_name"]


def test_merged_twins_are_no_longer_listed(admin, companies):
    for twin in ("Cevital", "Cévital S.P.A."):
        body = {"from_id": companies[twin], "into_id": companies["CEVITAL Spa"]}
        assert_ok(admin.post("/companies.merge", json=body))
    groups = named(assert_ok(admin.get("/companies.duplicates")))
    assert groups == [
        [("Hamoud Boualem", 0), ("Hamoud-Boualem", 0)],
        [("Soumam", 1), ("Soummam", 0)],
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"similarity": 0.1}, "similarity"),
        ({"similarity": "high"}, "similarity"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJhIl0"}, "cursor"),  # ["a"]: a cursor of another list
    ],
)
def test_invalid_queries(admin, query, field):
    body = assert_error(admin.get("/companies.duplicates", query_string=query), 422)
    assert field in body["errors"], body


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("CEVITAL Spa", "cevital"),
        ("Cévital S.P.A.", "cevital"),
        ("  Ets. Ben Amor  ", "ben amor"),
        ("SARL", "sarl"),  # nothing but a legal form: kept
        ("Laiterie Trèfle", "laiterie trefle"),
    ],
)
def test_twin_key(name, key):
    assert twin_key(name) == key


def test_trigrams_as_pg_trgm_makes_them():
    assert trigrams("Cat") == {"  c", " ca", "cat", "at "}
    assert trigrams("a-b") == {"  a", " a ", "  b", " b "}
    assert similarity(trigrams("cevital"), trigrams("cevital spa")) == 8 / 12


def test_alike_names_that_chain_make_small_groups():
    # 1~2, 2~3, 3~4, 4~5: no group of five, but each company in one group.
    chain = {(1, 2): 0.6, (2, 3): 0.7, (3, 4): 0.6, (4, 5): 0.9}
    assert gather(chain) == [
        {"companies": [1, 2], "similarity": 0.6},
        {"companies": [3, 4, 5], "similarity": 0.9},
    ]
    # 3's twins were taken: it joins the group of its most alike twin, 2.
    assert gather({(1, 2): 0.6, (2, 3): 0.7}) == [{"companies": [1, 2, 3], "similarity": 0.7}]
