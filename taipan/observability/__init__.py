"""What the server records about its own latency: the slow log, the latency
monitor's event series and the per-command latency histograms."""
