"""Parts of sorg's pytest plugin (`sorg.plugin` is the entry point and holds the hooks)."""
