"""Who is asking: principals, group membership, roles, API tokens."""
