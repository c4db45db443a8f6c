"""Report files: spend and reconciliation reports as CSV and XLSX for finance staff and
auditors."""
