"""Tests of lakemesh.storage."""
