"""Reading workspace.yaml: strict YAML with locations, schema and semantic checks, and the
immutable Spec the rest of kfws works from. No network."""
