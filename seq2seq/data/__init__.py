"""Reading and checking parallel files, length-bucketed batching, and the task sampler."""
