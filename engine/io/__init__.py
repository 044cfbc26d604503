"""Reading images and writing files safely: image decoding and headers, atomic writes."""
