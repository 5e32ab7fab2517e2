"""Readers for real CDISC ADaM/SDTM exports, mapped onto the data model."""
