"""Training runs: planning and set-up, the trainer, its events, schedule, EMA, validation, run folders, results CSV."""
