"""Who may see what: users file and roles, the audit trail, and serving with sign-in (on Panel's auth)."""
