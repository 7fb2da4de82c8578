"""The NimbusCart demo: a retailer's seeded, realistic data for a ready-made mesh."""
