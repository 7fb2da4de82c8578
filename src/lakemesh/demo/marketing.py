"""The marketing domain's campaign tables: campaigns and the leads they bring in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lakemesh.demo.records import Customers
from lakemesh.demo.reference import CAMPAIGN_CHANNELS, CAMPAIGN_THEMES, REGIONS
from lakemesh.demo.synth import (
    COUNTRY_REGION,
    MICROS_PER_DAY,
    FloatArray,
    IntArray,
    dates,
    day_number,
    emails,
    join,
    money,
    people,
    phones,
    pick_in_group,
    sample_countries,
    strings,
    timestamps,
)

FIRST_LEAD_ID = 1_000_001
# Per channel, in CAMPAIGN_CHANNELS order: chance to run in a campaign wave, median budget in
# USD, leads per dollar (relative) and lead-score bonus.
CHANNEL_USE = np.array([0.95, 0.85, 0.75, 0.5, 0.35, 0.2])
CHANNEL_BUDGET = np.array([8_000.0, 30_000.0, 35_000.0, 40_000.0, 15_000.0, 60_000.0])
CHANNEL_YIELD = np.array([3.0, 1.2, 1.5, 0.6, 1.0, 0.4])
CHANNEL_SCORE = np.array([5.0, 0.0, 10.0, -5.0, 0.0, 15.0])
REGION_BUDGET = np.array([1.0, 1.2, 0.7, 0.4])
BIG_THEMES = {"Black Friday": 2.5, "Holiday Gifts": 2.0, "Singles Day": 1.8}


@dataclass(frozen=True)
class Campaigns:
    """The campaigns table and what leads are drawn from."""

    table: pa.Table
    campaign_id: IntArray
    channel: IntArray
    region: IntArray
    start_day: IntArray
    end_day: IntArray
    budget_usd: FloatArray


def campaigns(rng: np.random.Generator, *, year: int) -> Campaigns:
    """Seasonal campaign waves per region over ``year`` and the year before, one row per channel."""
    themes = list(CAMPAIGN_THEMES)
    years, n_regions, n_themes, n_channels = 2, len(REGIONS), len(themes), len(CAMPAIGN_CHANNELS)
    year_index, region, theme, channel = (
        grid.ravel() for grid in np.indices((years, n_regions, n_themes, n_channels))
    )
    theme_odds = np.array([CAMPAIGN_THEMES[t][1] for t in themes])  # [theme, region]
    runs_wave = rng.random((years, n_regions, n_themes)) < theme_odds.T[None, :, :]
    uses_channel = rng.random(year_index.size) < CHANNEL_USE[channel]
    keep = runs_wave[year_index, region, theme] & uses_channel
    year_index, region, theme, channel = year_index[keep], region[keep], theme[keep], channel[keep]
    count = int(keep.sum())

    campaign_year = year - 1 + year_index
    month = np.array([CAMPAIGN_THEMES[t][0] for t in themes])[theme]
    month_start = np.array(
        [[day_number(date(y, m, 1)) for m in range(1, 13)] for y in (year - 1, year)]
    )[year_index, month - 1]
    start_day = month_start + rng.integers(0, 18, size=count)
    year_end = np.array([day_number(date(y, 12, 31)) for y in (year - 1, year)])[year_index]
    end_day = np.minimum(start_day + rng.integers(7, 43, size=count), year_end)
    theme_factor = np.array([BIG_THEMES.get(t, 1.0) for t in themes])[theme]
    budget = CHANNEL_BUDGET[channel] * REGION_BUDGET[region] * theme_factor
    budget = np.maximum(np.rint(budget * rng.lognormal(0.0, 0.4, size=count) / 500) * 500, 500)

    by_start = np.lexsort((channel, region, start_day))
    region, theme, channel = region[by_start], theme[by_start], channel[by_start]
    start_day, end_day, budget = start_day[by_start], end_day[by_start], budget[by_start]
    campaign_year = campaign_year[by_start]
    campaign_id = np.arange(1, count + 1, dtype=np.int64)
    name = join(
        strings(REGIONS, region),
        " ",
        strings(themes, theme),
        " ",
        pa.array(campaign_year).cast(pa.string()),
        " - ",
        pc.utf8_capitalize(strings(CAMPAIGN_CHANNELS, channel)),
    )
    table = pa.table(
        {
            "campaign_id": pa.array(campaign_id),
            "name": name,
            "channel": strings(CAMPAIGN_CHANNELS, channel),
            "region": strings(REGIONS, region),
            "start_date": dates(start_day),
            "end_date": dates(end_day),
            "budget": money((budget * 100).astype(np.int64)),
        }
    )
    return Campaigns(table, campaign_id, channel, region, start_day, end_day, budget)


def leads(
    rng: np.random.Generator, *, count: int, campaigns: Campaigns, customers: Customers
) -> pa.Table:
    """``count`` sign-ups attributed to campaigns.

    About a quarter are existing customers (same e-mail and phone); the others are new people,
    whose addresses differ from every customer's.
    """
    weight = campaigns.budget_usd * CHANNEL_YIELD[campaigns.channel]
    campaign = rng.choice(weight.size, size=count, p=weight / weight.sum())
    start = campaigns.start_day[campaign] * MICROS_PER_DAY
    length = (campaigns.end_day[campaign] + 1) * MICROS_PER_DAY - start
    created_at = start + (rng.random(count) * length).astype(np.int64)
    in_time_order = np.argsort(created_at, kind="stable")
    campaign, created_at = campaign[in_time_order], created_at[in_time_order]
    region = campaigns.region[campaign]

    country = sample_countries(rng, count, region=region)
    first, last = people(rng, country)
    new_email = emails(rng, first, last, taken=customers.table["email"].combine_chunks())
    new_phone = phones(rng, country)
    known = rng.random(count) < 0.25
    customer = pick_in_group(
        rng, member_groups=COUNTRY_REGION[customers.country], row_groups=region
    )
    known_mask = pa.array(known)
    customer_rows = pa.array(customer)
    email = pc.if_else(known_mask, customers.table["email"].take(customer_rows), new_email)
    phone = pc.if_else(known_mask, customers.table["phone"].take(customer_rows), new_phone)
    score = rng.beta(2.0, 3.0, size=count) * 100 + CHANNEL_SCORE[campaigns.channel[campaign]]
    score = np.clip(np.rint(score + np.where(known, 10.0, 0.0)), 0, 100).astype(np.int32)
    return pa.table(
        {
            "lead_id": pa.array(FIRST_LEAD_ID + np.arange(count, dtype=np.int64)),
            "campaign_id": pa.array(campaigns.campaign_id[campaign]),
            "email": email,
            "phone": phone,
            "score": pa.array(score),
            "region": strings(REGIONS, region),
            "created_at": timestamps(created_at),
        }
    )
