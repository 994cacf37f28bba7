"""Model zoo: MobileNet definitions, deterministic test weights, ONNX exports in several exporters'
spellings, and the bundled MNIST data (see README.md). Everything but `mnist` needs torch."""
