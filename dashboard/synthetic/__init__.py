"""Seeded synthetic NCT02241018 trial, calibrated to the published results."""
