"""The newsflow command line and the embedded default (private Redis, workers, beat, demo)."""
