"""The record types the demo's tables share across domains: orders made by sales feed supply
chain's shipments and finance's invoices, customers feed marketing, products feed orders."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from lakemesh.demo.synth import BoolArray, FloatArray, IntArray

ORDER_STATUSES = ("placed", "shipped", "delivered", "returned", "cancelled")
PLACED, SHIPPED, DELIVERED, RETURNED, CANCELLED = range(len(ORDER_STATUSES))


@dataclass(frozen=True)
class Customers:
    """The customers table and the per-customer facts orders depend on."""

    table: pa.Table
    customer_id: IntArray
    country: IntArray
    signup_day: IntArray
    activity: FloatArray  # relative number of orders a customer places


@dataclass(frozen=True)
class Stores:
    """The stores table and the per-store facts orders and inventory depend on."""

    table: pa.Table
    store_id: IntArray
    country: IntArray
    size: FloatArray  # relative floor space


@dataclass(frozen=True)
class Orders:
    """The orders table (without its partition column) and what shipments and invoices reuse."""

    table: pa.Table
    day: IntArray  # order date as a day number, ascending
    order_id: IntArray
    customer_id: IntArray
    country: IntArray
    status: IntArray  # index into ORDER_STATUSES
    amount_cents: IntArray
    shipped: BoolArray  # has a parcel: a web or app order past the warehouse
    shipped_at: IntArray  # microseconds; meaningful where shipped
    delivered_at: IntArray  # microseconds; meaningful where delivered or returned


@dataclass(frozen=True)
class Products:
    """The product catalogue, plus what orders and inventory need to stay consistent with it."""

    table: pa.Table
    product_id: IntArray
    list_price_usd: FloatArray
    popularity: FloatArray  # sums to 1
