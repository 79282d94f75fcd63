"""multi message: a chanspec service generated from spec.asyncapi.yaml."""
