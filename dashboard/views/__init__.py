"""Thin Panel views over a TrialStore, one module per tab."""
