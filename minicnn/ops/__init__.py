"""The CNN operations, one concept per module; `minicnn.functional` gathers them."""
