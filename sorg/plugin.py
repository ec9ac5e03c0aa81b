"""sorg's pytest plugin (placeholder until the plugin module lands; keeps pytest loadable)."""
