"""chanspec showcase: a chanspec service generated from showcase.asyncapi.yaml."""
