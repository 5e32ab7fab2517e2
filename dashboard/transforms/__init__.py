"""Pure pandas transforms: DataFrame in, new DataFrame out, named after what they return."""
