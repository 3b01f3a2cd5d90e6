"""Test support: real processes on real ports."""
