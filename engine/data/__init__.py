"""Training data: the dataset, augmentation, train/validation split, generated (synthetic) data."""
