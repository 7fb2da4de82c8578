"""The finance domain's tables: ledger invoices for orders and HR salaries."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from lakemesh.demo.records import CANCELLED, Orders
from lakemesh.demo.reference import DEPARTMENTS, REGIONS
from lakemesh.demo.synth import (
    COUNTRY_CODES,
    COUNTRY_CURRENCY,
    COUNTRY_FX,
    COUNTRY_LABOUR,
    COUNTRY_REGION,
    COUNTRY_TAX,
    COUNTRY_WHOLE_UNITS,
    dates,
    day_number,
    days_before,
    join,
    money,
    people,
    round_cents,
    sample_countries,
    strings,
)

FIRST_INVOICE_ID = 80_000_001
FIRST_EMPLOYEE_ID = 1_001


def invoices(rng: np.random.Generator, *, orders: Orders, year: int) -> pa.Table:
    """One invoice per order that was not cancelled; recent ones are often still unpaid."""
    rows = np.flatnonzero(orders.status != CANCELLED)
    country = orders.country[rows]
    amount = orders.amount_cents[rows]
    tax = round_cents(amount * COUNTRY_TAX[country], COUNTRY_WHOLE_UNITS[country])
    issued_on = orders.day[rows]
    days_open = day_number(date(year, 12, 31)) - issued_on
    paid = rng.random(rows.size) < np.where(days_open < 30, 0.55 + days_open * 0.015, 0.985)
    return pa.table(
        {
            "invoice_id": pa.array(FIRST_INVOICE_ID + np.arange(rows.size, dtype=np.int64)),
            "order_id": pa.array(orders.order_id[rows]),
            "customer_id": pa.array(orders.customer_id[rows]),
            "amount": money(amount),
            "tax": money(tax),
            "currency": strings(COUNTRY_CURRENCY, country),
            "issued_on": dates(issued_on),
            "paid": pa.array(paid),
            "region": strings(REGIONS, COUNTRY_REGION[country]),
        }
    )


def salaries(rng: np.random.Generator, *, count: int, year: int) -> pa.Table:
    """``count`` employees with annual salaries in local money; ids follow the hiring order."""
    country = sample_countries(rng, count)
    first, last = people(rng, country)
    names = list(DEPARTMENTS)
    share = np.array([DEPARTMENTS[name][0] for name in names])
    department = rng.choice(len(names), size=count, p=share / share.sum())
    newest = day_number(date(year, 12, 1))
    hired_on = days_before(
        rng, count, newest=newest, oldest=day_number(date(2008, 1, 7)), mean_age=4 * 365
    )
    tenure_years = (newest - hired_on) / 365.0
    median = np.array([DEPARTMENTS[name][1] for name in names])[department]
    usd = median * COUNTRY_LABOUR[country] * rng.lognormal(0.0, 0.22, size=count)
    usd *= 1.0 + 0.025 * np.minimum(tenure_years, 15.0)
    local = usd * COUNTRY_FX[country]
    # Three significant figures, as pay scales are written.
    step = 10.0 ** np.maximum(np.floor(np.log10(local)) - 2, 2)
    salary_cents = (np.rint(local / step) * step * 100).astype(np.int64)

    by_hire = np.argsort(hired_on, kind="stable")
    take = pa.array(by_hire)
    return pa.table(
        {
            "employee_id": pa.array(FIRST_EMPLOYEE_ID + np.arange(count, dtype=np.int64)),
            "full_name": join(first, " ", last).take(take),
            "department": strings(names, department[by_hire]),
            "country": strings(COUNTRY_CODES, country[by_hire]),
            "region": strings(REGIONS, COUNTRY_REGION[country[by_hire]]),
            "salary": money(salary_cents[by_hire]),
            "currency": strings(COUNTRY_CURRENCY, country[by_hire]),
            "hired_on": dates(hired_on[by_hire]),
        }
    )
