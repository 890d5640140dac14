package dev.imgmatch.ingest.pdq;

/**
 * The 8 symmetries of the square, in the order of {@code PreparedImage.pdqDihedral} and of the reference
 * implementation's outputs. Names follow the reference: ROT90 is the reference's "rotate 90" (its test image
 * {@code bridge-2-rotate-90.jpg}); TRANSPOSE and TRANSVERSE are its "flip plus 1" and "flip minus 1".
 */
public enum Dihedral {
  IDENTITY,
  ROT90,
  ROT180,
  ROT270,
  FLIP_X,
  FLIP_Y,
  TRANSPOSE,
  TRANSVERSE
}
