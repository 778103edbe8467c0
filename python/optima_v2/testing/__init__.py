"""Testing helpers: :mod:`.onnx_backend`, an ``onnx.backend.base.Backend`` (needs ``onnx``)."""
