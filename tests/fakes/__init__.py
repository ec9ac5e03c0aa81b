"""Test doubles shared by sorg's tests (a fake OpenAI-compatible server, ...)."""
