"""Detect on a folder: any folder of images, a results browser and exports."""
