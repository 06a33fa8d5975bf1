"""Audit: tamper evidence (a hash chain over append-only tables, `command-center verify`) and the
evidence pack (`command-center evidence`). See docs/tamper-evidence.md."""
