"""Report files: spend reports as CSV and XLSX for finance staff and auditors."""
