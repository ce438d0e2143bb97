"""Prefect flows: thin orchestration over the plain functions in bcf/, transforms/ and warehouse/."""
