"""Consumers: one module per channel. They are yours; chanspec only adds stubs."""
