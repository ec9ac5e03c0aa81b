"""sorg: experiments on multi-agent LLM coordination, written as pytest tests.

Importing sorg is cheap on purpose (no litellm, no scipy): replay and reporting must start
fast and must not need a model provider's SDK.
"""

__version__ = "0.1.0"
