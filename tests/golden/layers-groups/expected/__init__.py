"""layers and groups: a chanspec service generated from spec.asyncapi.yaml."""
