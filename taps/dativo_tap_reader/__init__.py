"""tap-reader: any dativo_core.sdk Reader as a Singer tap."""
