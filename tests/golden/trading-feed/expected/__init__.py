"""Trading feed: a chanspec service generated from trading-feed.asyncapi.yaml."""
