"""LLM-callable tools: Python functions with JSON schemas and safe execution."""
