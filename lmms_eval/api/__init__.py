"""The small typed contracts that the pipeline's stages hand each other."""
