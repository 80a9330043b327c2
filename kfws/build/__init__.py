"""Choosing and driving image builders: the Docker Engine's legacy builder (kfws.observe.engine)
or BuildKit through its own client, `buildctl` (kfws.observe.buildkit). The modules here are
pure (command lines, progress lines, the choice); the I/O lives in kfws.observe."""
