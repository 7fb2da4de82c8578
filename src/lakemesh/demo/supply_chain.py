"""The supply_chain domain's logistics tables: products, inventory snapshots, shipments."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from lakemesh.demo.records import RETURNED, SHIPPED, Orders, Products, Stores
from lakemesh.demo.reference import (
    CARRIERS,
    CATEGORIES,
    CATEGORY_WEIGHTS,
    PRODUCT_VARIANTS,
    REGIONS,
)
from lakemesh.demo.synth import (
    COUNTRY_REGION,
    dates,
    day_number,
    digits,
    join,
    money,
    pick_in_group,
    strings,
    timestamps,
)

FIRST_PRODUCT_ID = 10_001
FIRST_SHIPMENT_ID = 70_000_001
SHIPMENT_STATUSES = ("in_transit", "delivered", "returned")


def products(rng: np.random.Generator, *, count: int) -> Products:
    """``count`` distinct products: brand + item + variant, with costs around a category median."""
    names = list(CATEGORIES)
    combos_per_category = [
        len(brands) * len(items) * len(PRODUCT_VARIANTS)
        for _, _, brands, items in CATEGORIES.values()
    ]
    count = min(count, sum(combos_per_category))
    # Sample distinct (category, brand, item, variant) combinations, weighted by category.
    combo_category = np.repeat(np.arange(len(names)), combos_per_category)
    weights = (
        np.array(CATEGORY_WEIGHTS)[combo_category] / np.array(combos_per_category)[combo_category]
    )
    combo = np.sort(
        rng.choice(combo_category.size, size=count, replace=False, p=weights / weights.sum())
    )
    category = combo_category[combo]
    within = combo - np.concatenate(([0], np.cumsum(combos_per_category)[:-1]))[category]
    n_variants = len(PRODUCT_VARIANTS)
    n_brands = np.array([len(CATEGORIES[name][2]) for name in names])[category]
    variant = within % n_variants
    brand = (within // n_variants) % n_brands
    item = within // n_variants // n_brands

    brand_flat = [b for name in names for b in CATEGORIES[name][2]]
    brand_offset = np.cumsum([0] + [len(CATEGORIES[name][2]) for name in names])[category]
    item_flat = [i for name in names for i in CATEGORIES[name][3]]
    item_offset = np.cumsum([0] + [len(CATEGORIES[name][3]) for name in names])[category]
    name = join(
        strings(brand_flat, brand_offset + brand),
        " ",
        strings(item_flat, item_offset + item),
        strings(PRODUCT_VARIANTS, variant),
    )

    product_id = FIRST_PRODUCT_ID + np.arange(count, dtype=np.int64)
    median_cost = np.array([CATEGORIES[name][1] for name in names])[category]
    unit_cost = np.round(median_cost * rng.lognormal(0.0, 0.55, size=count), 2)
    # Shelf prices end in .99.
    list_price = np.ceil(unit_cost * rng.uniform(1.35, 2.4, size=count)) - 0.01
    popularity = rng.lognormal(0.0, 1.0, size=count)
    popularity /= popularity.sum()
    sku = join(
        "NC-",
        strings([CATEGORIES[name][0] for name in names], category),
        "-",
        digits(product_id, 6),
    )
    table = pa.table(
        {
            "product_id": pa.array(product_id),
            "sku": sku,
            "name": name,
            "category": strings(names, category),
            "unit_cost": money(np.rint(unit_cost * 100).astype(np.int64)),
            "list_price": money(np.rint(list_price * 100).astype(np.int64)),
        }
    )
    return Products(table, product_id, list_price, popularity)


def inventory(
    rng: np.random.Generator, *, stores: Stores, products: Products, year: int
) -> pa.Table:
    """Month-end stock per store for the products each store carries (about half the range)."""
    n_stores = stores.store_id.size
    n_products = products.product_id.size
    carried = rng.random((n_stores, n_products)) < 0.5
    store_index, product_index = np.nonzero(carried)
    month_ends = [
        day_number(date(year + (month == 12), month % 12 + 1, 1)) - 1 for month in range(1, 13)
    ]
    snapshot = np.repeat(np.array(month_ends, dtype=np.int64), store_index.size)
    store_index = np.tile(store_index, 12)
    product_index = np.tile(product_index, 12)
    # Stock follows demand: popular products in big stores hold more, and some run out.
    demand = np.sqrt(products.popularity[product_index] * n_products) * stores.size[store_index]
    on_hand = rng.negative_binomial(3, 3 / (3 + 10 * demand))
    on_hand[rng.random(on_hand.size) < 0.03] = 0
    return pa.table(
        {
            "store_id": pa.array(stores.store_id[store_index]),
            "product_id": pa.array(products.product_id[product_index]),
            "snapshot_date": dates(snapshot),
            "quantity_on_hand": pa.array(on_hand.astype(np.int32)),
            "region": strings(REGIONS, COUNTRY_REGION[stores.country[store_index]]),
        }
    )


def shipments(rng: np.random.Generator, *, orders: Orders) -> pa.Table:
    """One parcel per web or app order that has left the warehouse."""
    rows = np.flatnonzero(orders.shipped)
    region = COUNTRY_REGION[orders.country[rows]]
    carrier_flat = [carrier for name in REGIONS for carrier in CARRIERS[name]]
    carrier_region = np.repeat(np.arange(len(REGIONS)), [len(CARRIERS[r]) for r in REGIONS])
    carrier = pick_in_group(rng, member_groups=carrier_region, row_groups=region)
    status = np.select(
        [orders.status[rows] == RETURNED, orders.status[rows] == SHIPPED], [2, 0], default=1
    )
    delivered_at = orders.delivered_at[rows]
    return pa.table(
        {
            "shipment_id": pa.array(FIRST_SHIPMENT_ID + np.arange(rows.size, dtype=np.int64)),
            "order_id": pa.array(orders.order_id[rows]),
            "carrier": strings(carrier_flat, carrier),
            "shipped_at": timestamps(orders.shipped_at[rows]),
            "delivered_at": timestamps(delivered_at, mask=status == 0),
            "status": strings(SHIPMENT_STATUSES, status),
            "region": strings(REGIONS, region),
        }
    )
