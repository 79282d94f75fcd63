"""Consumers: one module per channel. These modules are yours; chanspec only adds stubs."""
