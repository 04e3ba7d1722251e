"""English task builders: raw frames in, training records (context, label, image_id) out."""
