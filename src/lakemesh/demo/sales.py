"""The sales domain's CRM tables: customers, stores and a year of orders."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lakemesh.demo.records import (
    CANCELLED,
    DELIVERED,
    ORDER_STATUSES,
    PLACED,
    RETURNED,
    SHIPPED,
    Customers,
    Orders,
    Products,
    Stores,
)
from lakemesh.demo.reference import (
    COUNTRIES,
    REGIONS,
    SEGMENT_WEIGHTS,
    SEGMENTS,
    STORE_QUALIFIERS,
)
from lakemesh.demo.synth import (
    COUNTRY_CODES,
    COUNTRY_CURRENCY,
    COUNTRY_REGION,
    COUNTRY_WHOLE_UNITS,
    MICROS_PER_DAY,
    FloatArray,
    dates,
    day_number,
    days_before,
    emails,
    join,
    money,
    people,
    phones,
    pick_in_group,
    price_cents,
    rank_within_groups,
    round_cents,
    sample_countries,
    strings,
)

FIRST_CUSTOMER_ID = 100_001
FIRST_ORDER_ID = 50_000_001
ORDER_CHANNELS = ("web", "store", "app")
WEB, STORE, APP = range(len(ORDER_CHANNELS))
# Channel mix per region (web, store, app), in REGIONS order.
CHANNEL_MIX = np.array(
    [[0.48, 0.32, 0.20], [0.50, 0.28, 0.22], [0.38, 0.27, 0.35], [0.45, 0.35, 0.20]]
)
# Days in transit per region (low, high), in REGIONS order.
TRANSIT_DAYS = np.array([[1.0, 4.0], [2.0, 6.0], [2.0, 8.0], [3.0, 12.0]])
SEGMENT_ACTIVITY = np.array([1.0, 1.6, 2.5, 4.0])


def customers(rng: np.random.Generator, *, count: int, year: int) -> Customers:
    """``count`` customers who signed up over the ten years before the end of ``year``."""
    country = sample_countries(rng, count)
    first, last = people(rng, country)
    segment = rng.choice(len(SEGMENTS), size=count, p=SEGMENT_WEIGHTS)
    # Sign-ups grow over time: most customers joined in the last few years.
    signup_day = days_before(
        rng,
        count,
        newest=day_number(date(year, 12, 20)),
        oldest=day_number(date(year - 10, 1, 1)),
        mean_age=3 * 365,
    )
    customer_id = FIRST_CUSTOMER_ID + np.arange(count, dtype=np.int64)
    table = pa.table(
        {
            "customer_id": pa.array(customer_id),
            "first_name": first,
            "last_name": last,
            "email": emails(rng, first, last),
            "phone": phones(rng, country),
            "country": strings(COUNTRY_CODES, country),
            "region": strings(REGIONS, COUNTRY_REGION[country]),
            "segment": strings(SEGMENTS, segment),
            "signup_date": dates(signup_day),
        }
    )
    activity = rng.lognormal(0.0, 0.9, size=count) * SEGMENT_ACTIVITY[segment]
    return Customers(table, customer_id, country, signup_day, activity)


def stores(rng: np.random.Generator, *, count: int, year: int) -> Stores:
    """``count`` stores (at least one per country), all opened before ``year``."""
    n_countries = len(COUNTRIES)
    count = max(count, n_countries)
    extra = sample_countries(rng, count - n_countries)
    country = np.sort(np.concatenate([np.arange(n_countries), extra]))
    city_count = np.array([len(c.cities) for c in COUNTRIES])[country]
    # Earlier-listed (bigger) cities get more stores.
    city = (rng.random(count) ** 1.7 * city_count).astype(np.int64)
    city_flat = [name for c in COUNTRIES for name in c.cities]
    city_offset = np.cumsum([0] + [len(c.cities) for c in COUNTRIES])[country]
    city_names = strings(city_flat, city_offset + city)
    rank = rank_within_groups(city_offset + city)
    n_qualifiers = len(STORE_QUALIFIERS)
    qualifier = strings(STORE_QUALIFIERS, rank % n_qualifiers)
    round_number = pa.array(rank // n_qualifiers + 1).cast(pa.string())
    qualifier = pc.if_else(
        pa.array(rank >= n_qualifiers), join(qualifier, " ", round_number), qualifier
    )
    opened_on = days_before(
        rng,
        count,
        newest=day_number(date(year - 1, 12, 31)),
        oldest=day_number(date(1998, 3, 1)),
        mean_age=8 * 365,
    )
    store_id = np.arange(1, count + 1, dtype=np.int64)
    table = pa.table(
        {
            "store_id": pa.array(store_id),
            "name": join("NimbusCart ", city_names, " ", qualifier),
            "city": city_names,
            "country": strings(COUNTRY_CODES, country),
            "region": strings(REGIONS, COUNTRY_REGION[country]),
            "opened_on": dates(opened_on),
        }
    )
    return Stores(table, store_id, country, rng.lognormal(0.0, 0.4, size=count))


def day_weights(year: int) -> FloatArray:
    """Relative order volume for each day of ``year``: weekends, growth, season and sale days."""
    first = date(year, 1, 1)
    n_days = (date(year + 1, 1, 1) - first).days
    day = np.arange(n_days)
    weekday = (first.weekday() + day) % 7
    month = np.searchsorted(
        np.array([(date(year, m, 1) - first).days for m in range(2, 13)]), day, side="right"
    )
    weight = np.array([0.92, 0.90, 0.94, 1.00, 1.12, 1.28, 1.16])[weekday]
    weight = weight * np.linspace(1.0, 1.25, n_days)
    weight *= np.array([1.05, 0.85, 0.92, 0.95, 0.98, 1.0, 1.04, 0.98, 0.97, 1.0, 1.12, 1.35])[
        month
    ]
    november = date(year, 11, 1)
    black_friday = november + timedelta(days=(3 - november.weekday()) % 7 + 22)
    events = {
        date(year, 1, 1): 0.55,
        **{date(year, 1, d): 1.25 for d in range(2, 8)},
        date(year, 7, 15): 1.6,
        date(year, 7, 16): 1.5,
        date(year, 11, 11): 1.4,
        black_friday: 3.2,
        black_friday + timedelta(days=1): 1.8,
        black_friday + timedelta(days=3): 2.6,
        date(year, 12, 24): 0.7,
        date(year, 12, 25): 0.35,
        date(year, 12, 26): 1.5,
    }
    for day_of_event, factor in events.items():
        weight[(day_of_event - first).days] *= factor
    return weight


def orders(
    rng: np.random.Generator,
    *,
    count: int,
    year: int,
    customers: Customers,
    stores: Stores,
    products: Products,
) -> Orders:
    """``count`` orders over ``year``, each by a signed-up customer in a store of their country.

    Web and app orders follow a shipping timeline; their status is what it would be at the end of
    the year (recent orders are still placed or in transit).
    """
    first_day = day_number(date(year, 1, 1))
    weight = day_weights(year)
    cumulative = np.cumsum(weight) / weight.sum()
    before = np.concatenate(([0.0], cumulative[:-1]))
    signup_index = np.clip(customers.signup_day - first_day, 0, weight.size - 1)
    # A customer who joined mid-year has only the rest of the year to order in.
    share = customers.activity * (1.0 - before[signup_index])
    buyer = rng.choice(share.size, size=count, p=share / share.sum())
    low = before[signup_index[buyer]]
    draw = low + rng.random(count) * (1.0 - low)
    day_index = np.minimum(np.searchsorted(cumulative, draw, side="right"), weight.size - 1)
    by_day = np.argsort(day_index, kind="stable")
    buyer, day_index = buyer[by_day], day_index[by_day]
    day = first_day + day_index

    country = customers.country[buyer]
    region = COUNTRY_REGION[country]
    store = pick_in_group(rng, member_groups=stores.country, row_groups=country)
    chosen = (rng.random(count)[:, None] > np.cumsum(CHANNEL_MIX, axis=1)[region]).sum(axis=1)
    channel = np.minimum(chosen, len(ORDER_CHANNELS) - 1)
    product = rng.choice(products.product_id.size, size=count, p=products.popularity)
    quantity = np.minimum(rng.geometric(0.62, size=count), 12)

    # Shelf price in local money, with promotions (more of them in the big sales).
    list_cents = price_cents(products.list_price_usd[product], country)
    sale_days = (weight / np.median(weight) > 1.2)[day_index]
    promoted = rng.random(count) < np.where(sale_days, 0.45, 0.12)
    discount = np.where(promoted, rng.choice([0.10, 0.15, 0.20, 0.25, 0.30], size=count), 0.0)
    unit_cents = round_cents(list_cents * (1.0 - discount), COUNTRY_WHOLE_UNITS[country])
    amount_cents = unit_cents * quantity

    # Shipping timeline for web and app orders; in-store orders are handed over at the till.
    hour = np.mod(rng.normal(19.0, 4.0, size=count), 24.0)
    placed_at = day * MICROS_PER_DAY + (hour * 3_600_000_000).astype(np.int64)
    shipped_at = placed_at + (rng.uniform(6.0, 54.0, size=count) * 3_600_000_000).astype(np.int64)
    low_days, high_days = TRANSIT_DAYS[region, 0], TRANSIT_DAYS[region, 1]
    transit = rng.uniform(low_days, high_days) * MICROS_PER_DAY
    delivered_at = shipped_at + transit.astype(np.int64)
    year_end = day_number(date(year + 1, 1, 1)) * MICROS_PER_DAY
    online = channel != STORE
    status = np.select(
        [~online, shipped_at >= year_end, delivered_at >= year_end],
        [DELIVERED, PLACED, SHIPPED],
        default=DELIVERED,
    )
    returned = (status == DELIVERED) & (rng.random(count) < np.where(online, 0.08, 0.04))
    status[returned] = RETURNED
    cancelled = (status == PLACED) | (status == DELIVERED)
    cancelled &= rng.random(count) < np.where(online, 0.035, 0.004)
    status[cancelled] = CANCELLED
    shipped = online & np.isin(status, [SHIPPED, DELIVERED, RETURNED])

    order_id = FIRST_ORDER_ID + np.arange(count, dtype=np.int64)
    customer_id = customers.customer_id[buyer]
    table = pa.table(
        {
            "order_id": pa.array(order_id),
            "customer_id": pa.array(customer_id),
            "store_id": pa.array(stores.store_id[store]),
            "product_id": pa.array(products.product_id[product]),
            "quantity": pa.array(quantity.astype(np.int32)),
            "unit_price": money(unit_cents),
            "amount": money(amount_cents),
            "currency": strings(COUNTRY_CURRENCY, country),
            "region": strings(REGIONS, region),
            "status": strings(ORDER_STATUSES, status),
            "channel": strings(ORDER_CHANNELS, channel),
        }
    )
    return Orders(
        table=table,
        day=day,
        order_id=order_id,
        customer_id=customer_id,
        country=country,
        status=status,
        amount_cents=amount_cents,
        shipped=shipped,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
    )
