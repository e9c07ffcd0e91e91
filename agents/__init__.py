"""LLM clients and prebuilt, subclassable workflows built on agentflow."""
