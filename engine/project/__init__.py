"""A labelled folder opened for editing: the project, its class list, settings, lock and disk state."""
