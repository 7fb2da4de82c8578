"""The NimbusCart demo's example queries: what each persona sees through the query gateway.

``lakemesh demo`` prints them with their results; each is ``(profile, description, SQL)``, the
profile naming the persona (``profiles.toml``) that runs it.
"""

from __future__ import annotations


def example_queries() -> list[tuple[str, str, str]]:
    """A marketing analyst without PII, the EU manager's EU-only orders, and a denied query."""
    return [
        (
            "marketing-analyst",
            "A marketing analyst reads customers: SELECT * expands to the columns the analysts' "
            "tag grant covers, so email and phone (tagged PII) are not there.",
            "SELECT * FROM sales.crm.customers ORDER BY customer_id LIMIT 5",
        ),
        (
            "eu-manager",
            "Emma, the EU regional manager (region=EU), sums orders by region: the row filter "
            "region = principal_attribute('region') leaves her only the EU's rows.",
            "SELECT region, count(*) AS orders, sum(amount) AS revenue "
            "FROM sales.crm.orders GROUP BY region ORDER BY region",
        ),
        (
            "marketing-analyst",
            "The marketing analyst asks for customers' email addresses: denied, and audited.",
            "SELECT customer_id, email FROM sales.crm.customers LIMIT 5",
        ),
    ]
