"""Tests of lakemesh.catalog."""
