"""The catalog: domains, locations, databases, tables and the crawler that fills them."""
