"""Builders of the school's and pupils' reports (registered in reports/builders.py)."""
