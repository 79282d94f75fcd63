"""Smart building: a chanspec service generated from smart-building.asyncapi.yaml."""
