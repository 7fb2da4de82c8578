"""Tests of lakemesh.demo."""
