"""What the dataset families share: the layer factories and publishers (raw, english, translated,
train), checks, metadata, partitions, resources, the IO manager, source observation, automation and
the tags ``mmassets build`` plans by."""
