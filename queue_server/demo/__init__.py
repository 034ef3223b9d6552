"""Demonstrations that run on one machine: `bianmin demo county` (a county center and its townships, linked)."""
