"""Planning between the quantized graph and C code: the schedule (what runs in which order), the
kernel choice (which C function runs each step) and the memory plan (where each tensor lives).
Each is its own module so any one can change without touching the others."""
