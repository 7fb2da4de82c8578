"""Vectorised building blocks for the NimbusCart tables: seeded draws, strings, money, Parquet.

Every helper works on whole columns (numpy arrays in, Arrow arrays out); loops run over small
vocabularies (countries, phone templates), never over rows.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lakemesh.demo.reference import (
    COUNTRIES,
    CURRENCIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    REGION_WEIGHTS,
    REGIONS,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MICROS_PER_DAY = 86_400_000_000
ROW_GROUP_SIZE = 262_144
PART_FILE = "part-00000.parquet"

COUNTRY_CODES = tuple(country.code for country in COUNTRIES)
COUNTRY_REGION: IntArray = np.array([REGIONS.index(c.region) for c in COUNTRIES], dtype=np.int64)
COUNTRY_CURRENCY = tuple(country.currency for country in COUNTRIES)
COUNTRY_FX: FloatArray = np.array([CURRENCIES[c.currency][0] for c in COUNTRIES])
COUNTRY_WHOLE_UNITS: BoolArray = np.array([CURRENCIES[c.currency][1] == 0 for c in COUNTRIES])
COUNTRY_TAX: FloatArray = np.array([country.tax_rate for country in COUNTRIES])
COUNTRY_LABOUR: FloatArray = np.array([country.labour_cost for country in COUNTRIES])
_NAME_POOLS = tuple(FIRST_NAMES)
_COUNTRY_POOL: IntArray = np.array([_NAME_POOLS.index(c.names) for c in COUNTRIES], dtype=np.int64)


def day_number(day: date) -> int:
    """Days since 1970-01-01, the representation of Arrow ``date32``."""
    return (day - date(1970, 1, 1)).days


def table_rng(seed: int, table: str) -> np.random.Generator:
    """An independent random stream per table, so adding a table never shifts another's data."""
    return np.random.default_rng([seed, zlib.crc32(table.encode())])


def sample_countries(
    rng: np.random.Generator, size: int, *, region: IntArray | None = None
) -> IntArray:
    """Country indices (into ``COUNTRIES``) following market shares; within ``region`` if given."""
    country_weight = np.array([country.weight for country in COUNTRIES])
    region_total = np.bincount(COUNTRY_REGION, weights=country_weight)[COUNTRY_REGION]
    if region is None:
        weights = np.array(REGION_WEIGHTS)[COUNTRY_REGION] * country_weight / region_total
        return rng.choice(len(COUNTRIES), size=size, p=weights / weights.sum())
    # One cumulative distribution per region; countries outside it add nothing.
    in_region = COUNTRY_REGION[None, :] == np.arange(len(REGIONS))[:, None]
    cumulative = np.cumsum(np.where(in_region, country_weight / region_total, 0.0), axis=1)
    draw = rng.random(size)[:, None] * cumulative[region, -1:]
    chosen: IntArray = np.minimum((draw >= cumulative[region]).sum(axis=1), len(COUNTRIES) - 1)
    return chosen


def days_before(
    rng: np.random.Generator, size: int, *, newest: int, oldest: int, mean_age: float
) -> IntArray:
    """Day numbers in ``[oldest, newest]``, recent ones likelier (a truncated exponential age)."""
    span = newest - oldest + 1
    top = 1.0 - np.exp(-span / mean_age)
    age = -mean_age * np.log1p(-rng.random(size) * top)
    result: IntArray = newest - np.minimum(age.astype(np.int64), span - 1)
    return result


def pick_in_group(
    rng: np.random.Generator, *, member_groups: IntArray, row_groups: IntArray
) -> IntArray:
    """For each row, a uniformly chosen member index from the members of the row's group."""
    n_groups = int(max(member_groups.max(initial=0), row_groups.max(initial=0))) + 1
    order = np.argsort(member_groups, kind="stable")
    counts = np.bincount(member_groups, minlength=n_groups)
    if np.any(counts[row_groups] == 0):
        raise ValueError("pick_in_group: a row's group has no members")
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    position = offsets[row_groups] + (rng.random(row_groups.size) * counts[row_groups]).astype(
        np.int64
    )
    picked: IntArray = order[position]
    return picked


def rank_within_groups(codes: IntArray) -> IntArray:
    """0 for the first row of each code, 1 for the second, ... (in row order)."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, codes.size]))
    rank = np.empty(codes.size, dtype=np.int64)
    rank[order] = np.arange(codes.size) - group_start
    return rank


def by_group(keys: IntArray, n_groups: int, build: Callable[[int, IntArray], pa.Array]) -> pa.Array:
    """Assemble a column group by group, each group's values made in one call.

    ``build(group, rows)`` returns the values for ``rows`` (the rows whose key is ``group``), in
    that order; the pieces are put back in row order.
    """
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n_groups)
    chunks = []
    start = 0
    for group in range(n_groups):
        rows = order[start : start + counts[group]]
        start += int(counts[group])
        chunks.append(build(group, rows))
    combined = pa.concat_arrays(chunks)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return combined.take(pa.array(inverse))


def strings(vocabulary: Sequence[str], indices: IntArray) -> pa.Array:
    """``vocabulary[i]`` for each index, as an Arrow string column."""
    return pa.array(vocabulary, pa.string()).take(pa.array(indices))


def digits(values: IntArray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded decimal strings of ``width`` characters."""
    return pc.utf8_lpad(pa.array(values).cast(pa.string()), width=width, padding="0")


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string columns and literals row by row."""
    return pc.binary_join_element_wise(*parts, "")


def dates(days: IntArray) -> pa.Array:
    """Day numbers as a ``date32`` column."""
    return pa.array(days.astype(np.int32), pa.date32())


def timestamps(micros: IntArray, mask: BoolArray | None = None) -> pa.Array:
    """Microseconds since the epoch as a ``timestamp[us]`` column; ``mask`` marks NULLs."""
    return pa.array(micros, pa.timestamp("us"), mask=mask)


def money(cents: IntArray) -> pa.Array:
    """Hundredths of a currency unit as an exact ``decimal128(18, 2)`` column."""
    words = np.empty((cents.size, 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension of the 128-bit two's complement
    buffer = pa.py_buffer(words.tobytes())
    return pa.Array.from_buffers(pa.decimal128(18, 2), cents.size, [None, buffer])


def round_cents(cents: FloatArray, whole_units: BoolArray) -> IntArray:
    """Round amounts to the cent, or to the whole unit for currencies without minor units."""
    step = np.where(whole_units, 100, 1)
    return (np.rint(cents / step) * step).astype(np.int64)


def price_cents(usd: FloatArray, country: IntArray) -> IntArray:
    """Shelf prices in local money: ``x.99`` endings, or round sums for yen-like currencies."""
    local = usd * COUNTRY_FX[country]
    whole = COUNTRY_WHOLE_UNITS[country]
    step = np.where(local >= 10_000, 100.0, 10.0)
    whole_price = np.maximum(np.rint(local / step), 1.0) * step * 100
    cent_price = np.ceil(np.maximum(local, 0.5)) * 100 - 1
    return np.where(whole, whole_price, cent_price).astype(np.int64)


def people(rng: np.random.Generator, country: IntArray) -> tuple[pa.Array, pa.Array]:
    """First and last names that fit each row's country."""
    pool = _COUNTRY_POOL[country]
    columns = []
    for names in (FIRST_NAMES, LAST_NAMES):
        flat = [name for key in _NAME_POOLS for name in names[key]]
        flat_pool = np.repeat(np.arange(len(_NAME_POOLS)), [len(names[k]) for k in _NAME_POOLS])
        picked = pick_in_group(rng, member_groups=flat_pool, row_groups=pool)
        columns.append(strings(flat, picked))
    return columns[0], columns[1]


def emails(
    rng: np.random.Generator, first: pa.Array, last: pa.Array, *, taken: pa.Array | None = None
) -> pa.Array:
    """Unique addresses such as ``emma.jones@example.com``, ``ejones@…``, ``emma.jones84@…``.

    A repeated address gets a ``.2``, ``.3``… suffix on its local part. Addresses in ``taken``
    (earlier output of this function) count as repeats, so the new ones never coincide with them.
    """
    size = len(first)
    given = pc.utf8_lower(first)
    family = pc.utf8_lower(last)
    initial = pc.utf8_slice_codeunits(given, 0, 1)
    number = pa.array(rng.integers(1, 100, size=size)).cast(pa.string())
    born = pa.array(rng.integers(1955, 2006, size=size)).cast(pa.string())
    three = digits(rng.integers(0, 1000, size=size), 3)
    style = rng.choice(9, size=size, p=[0.30, 0.08, 0.10, 0.07, 0.15, 0.05, 0.10, 0.05, 0.10])
    local = pc.choose(
        pa.array(style.astype(np.int8)),
        join(given, ".", family),
        join(given, family),
        join(initial, ".", family),
        join(given, "_", family),
        join(given, ".", family, number),
        join(initial, family),
        join(given, family, born),
        join(family, ".", given),
        join(given, three),
    )
    domain = strings(EMAIL_DOMAINS, rng.choice(3, size=size, p=[0.70, 0.15, 0.15]))
    address = join(local, "@", domain)
    # No style puts ".<digits>@" in an address, so stripping it recovers taken addresses' bases.
    taken_bases = pa.array([], pa.string())
    if taken is not None:
        taken_bases = pc.replace_substring_regex(taken, pattern=r"\.[0-9]+@", replacement="@")
    combined = pa.concat_arrays([taken_bases, address])
    codes = pc.dictionary_encode(combined).indices.to_numpy().astype(np.int64)
    rank = rank_within_groups(codes)[len(taken_bases) :]
    suffix = join(".", pa.array(rank + 1).cast(pa.string()))
    local = pc.if_else(pa.array(rank > 0), join(local, suffix), local)
    return join(local, "@", domain)


def phones(rng: np.random.Generator, country: IntArray) -> pa.Array:
    """Phone numbers in each country's written format, such as ``+44 20 7946 0123``."""
    templates = [template for c in COUNTRIES for template in c.phones]
    template_country = np.repeat(np.arange(len(COUNTRIES)), [len(c.phones) for c in COUNTRIES])
    chosen = pick_in_group(rng, member_groups=template_country, row_groups=country)

    def fill(group: int, rows: IntArray) -> pa.Array:
        return _fill_template(rng, templates[group], rows.size)

    return by_group(chosen, len(templates), fill)


def _fill_template(rng: np.random.Generator, template: str, size: int) -> pa.Array:
    width = template.count("#")
    # Subscriber numbers do not start with 0 or 1.
    number = digits(rng.integers(2 * 10 ** (width - 1), 10**width, size=size), width)
    parts: list[pa.Array | str] = []
    position = 0
    for run in re.split(r"(#+)", template):
        if run.startswith("#"):
            parts.append(pc.utf8_slice_codeunits(number, position, position + len(run)))
            position += len(run)
        elif run:
            parts.append(run)
    return join(*parts)


def write_parquet(table: pa.Table, folder: Path, name: str = PART_FILE) -> None:
    """Write one Parquet file; the same table always gives the same bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / name, compression="zstd", row_group_size=ROW_GROUP_SIZE)
