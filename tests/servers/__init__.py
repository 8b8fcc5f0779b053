"""Real servers (PostgreSQL, OpenBao, moto, SeaweedFS) started on 127.0.0.1 for a test session."""
