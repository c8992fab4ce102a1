"""For operators: the monitor service, Prometheus scrape config, alert rules, Grafana dashboard."""
