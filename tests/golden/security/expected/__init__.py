"""Secured chat: a chanspec service generated from spec.asyncapi.yaml."""
