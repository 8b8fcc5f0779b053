"""Reader plugins: manifests, discovery, loading, and running a reader in a sandboxed child.

`dativo_core.sdk` is what a plugin implements; this package is what runs it.
"""
