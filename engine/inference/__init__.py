"""Using a trained model: detectors (torch and ONNX), export, input sources, frame readers, outputs, auto-labelling, drawing."""
