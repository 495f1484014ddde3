"""Outputs: what is written or printed from the tables: Parquet files (export), the account
of a run (report), and text for people (summary)."""
