"""Builders of the provisions', partnerships' and LA's reports (registered in reports/builders.py)."""
