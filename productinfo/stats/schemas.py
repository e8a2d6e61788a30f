"""Request and response models of the dashboard's numbers."""

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator, Field

from productinfo.fields import Model
from productinfo.products.schemas import Uploader

MAX_DAYS = 366


def _iso_day(value):
    # pydantic would also read a number as a Unix time, and a time as its day.
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("must be a day in ISO 8601, such as 2026-11-30")
    return value.strip()


class StatsQuery(Model):
    days: int = Field(30, ge=1, le=MAX_DAYS, description="How many days the window covers.")
    until: Annotated[dt.date, BeforeValidator(_iso_day)] | None = Field(
        None, description="The window's last day (UTC), included; today by default."
    )


class PersonCaptures(Uploader):
    captures: int = Field(description="In the window.")
    per_day: list[int] = Field(description="Captures on each day of `dates`.")


class Bar(Model):
    photos: int = Field(description="How many photos; the last bar: this many or more.")
    products: int


class CompanyCount(Model):
    id: int
    name: str
    products: int


class PersonWeek(Uploader):
    captures: int
    photos: int


class Week(Model):
    from_: dt.date = Field(alias="from", serialization_alias="from")
    to: dt.date
    people: list[PersonWeek] = Field(description="The most active first (captures + photos).")


class Dashboard(Model):
    """The dashboard: captures per day and person, photos, manufacturers, this week."""

    days: int
    from_: dt.date = Field(alias="from", serialization_alias="from", description="First day (UTC).")
    to: dt.date = Field(description="Last day (UTC), included.")
    dates: list[dt.date] = Field(description="Every day of the window, oldest first.")
    captures_per_day: list[int] = Field(description="Products added on each day of `dates`.")
    people: list[PersonCaptures] = Field(description="Who captured in the window, the most first.")
    products: int = Field(description="Live products, all time.")
    products_with_photos: int
    products_without_photos: int
    photos_per_product: list[Bar]
    top_companies: list[CompanyCount] = Field(description="The ten with the most products.")
    week: Week = Field(description="The 7 days ending with `to`.")
